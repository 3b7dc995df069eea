/* Contexts (mapping pairs, mapping file, per-context pinning file, cache delete/clear/drop)
 * and a pinning-only farm resolver that never asks the server. */
#include "common.h"

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static void farm_resolver(const char *dir) {
    char pin[512];
    ayon_resolver_config c = ayon_resolver_config_default();
    ayon_resolver *r = NULL;
    char *path = NULL;
    ayon_source src;
    ayon_error *err = NULL;
    ayon_stats stats;

    snprintf(pin, sizeof pin, "%s/job_pin.json", dir);
    write_file(pin, "{\"ayon_resolver_pinning_data\": {\"" HERO_V1 "\": \"{root[work]}/demo_offline/hero_v001.usd\"}}");
    c.pinning_policy = AYON_PINNING_ONLY;
    c.pinning_file = pin;
    c.pinning_roots = "work=/mnt/farm";
    c.memory_only = true;
    OK(ayon_resolver_new(&c, &r, NULL));
    /* The same URI spelled differently finds the pinned entry. */
    OK(ayon_resolve_owned(r, NULL, "ayon://demo_offline//assets/characters/hero?product=usdAsset&version=1&representation=usd", &path, &src, NULL));
    CHECK(strcmp(path, "/mnt/farm/demo_offline/hero_v001.usd") == 0);
    CHECK(src == AYON_SOURCE_PINNING);
    ayon_string_free(path);
    path = NULL;
    CHECK(ayon_resolve_owned(r, NULL, HERO_V2, &path, &src, &err) == AYON_ERROR_NOT_PINNED);
    CHECK(path == NULL);
    CHECK(strstr(ayon_error_message(err), "job_pin.json") != NULL);
    ayon_error_free(err);
    OK(ayon_resolver_stats(r, &stats));
    CHECK(stats.pinning_hits == 1 && stats.server_answers == 0);
    /* A bad roots spec is a config error, no resolver. */
    c.pinning_roots = "no equals sign";
    ayon_resolver_free(r);
    r = NULL;
    CHECK(ayon_resolver_new(&c, &r, NULL) == AYON_ERROR_CONFIG);
    CHECK(r == NULL);
}

int main(void) {
    const char *dir = need_env("AYON_TEST_DIR");
    ayon_resolver *r = test_resolver(false);
    ayon_context *ctx = NULL, *connected = NULL, *other = NULL;
    char file[512], mapping[512], pin[512], json[2048];
    char *path = NULL;
    ayon_source src;
    size_t n = 0;
    bool was = false;
    uint64_t id1 = 0, id2 = 0;
    ayon_error *err = NULL;

    snprintf(file, sizeof file, "%s/override.usd", dir);
    write_file(file, "#usda 1.0\n");
    OK(ayon_context_new(r, &ctx, NULL));
    OK(ayon_context_connected(r, &connected, NULL));
    OK(ayon_context_id(ctx, &id1));
    OK(ayon_context_id(connected, &id2));
    CHECK(id1 != id2);

    /* A mapping pair to a file, then to another URI. */
    OK(ayon_context_add_mapping_pair(ctx, HERO_LATEST, file, NULL));
    OK(ayon_resolve_owned(r, ctx, HERO_LATEST, &path, &src, NULL));
    CHECK(strcmp(path, file) == 0 && src == AYON_SOURCE_MAPPING);
    ayon_string_free(path);
    OK(ayon_context_add_mapping_pair(ctx, "ayon://alias", HERO_V2, NULL));
    OK(ayon_resolve_owned(r, ctx, "ayon://alias", &path, &src, NULL));
    CHECK(strstr(path, "v002") != NULL);
    ayon_string_free(path);
    /* The connected context has no mapping. */
    OK(ayon_resolve_owned(r, NULL, HERO_LATEST, &path, &src, NULL));
    CHECK(src == AYON_SOURCE_SERVER && strcmp(path, file) != 0);
    ayon_string_free(path);
    OK(ayon_context_remove_mapping_pair(ctx, "ayon://alias", &was, NULL));
    CHECK(was);
    OK(ayon_context_remove_mapping_pair(ctx, "ayon://alias", &was, NULL));
    CHECK(!was);

    /* A mapping file; a broken one is a config error and changes nothing. */
    snprintf(mapping, sizeof mapping, "%s/mapping.json", dir);
    snprintf(json, sizeof json, "{\"mappingPairs\": {\"%s\": \"%s\"}}", HERO_V1, file);
    write_file(mapping, json);
    OK(ayon_context_new(r, &other, NULL));
    OK(ayon_context_set_mapping_file(other, mapping, &n, NULL));
    CHECK(n == 1);
    OK(ayon_resolve_owned(r, other, HERO_V1, &path, &src, NULL));
    CHECK(src == AYON_SOURCE_MAPPING);
    ayon_string_free(path);
    CHECK(ayon_context_set_mapping_file(other, "/no/such/mapping.json", &n, &err) == AYON_ERROR_CONFIG);
    CHECK(strstr(ayon_error_message(err), "mapping.json") != NULL);
    ayon_error_free(err);
    OK(ayon_resolve_owned(r, other, HERO_V1, &path, &src, NULL));
    CHECK(src == AYON_SOURCE_MAPPING);
    ayon_string_free(path);
    OK(ayon_context_clear_mapping_pairs(other));
    OK(ayon_resolve_owned(r, other, HERO_V1, &path, &src, NULL));
    CHECK(src != AYON_SOURCE_MAPPING);
    ayon_string_free(path);

    /* Cache: delete one, clear for all connected, drop gives a context its own. */
    OK(ayon_context_delete_from_cache(ctx, HERO_V1, &was, NULL));
    CHECK(was);
    OK(ayon_context_delete_from_cache(ctx, HERO_V1, &was, NULL));
    CHECK(!was);
    OK(ayon_resolve_owned(r, NULL, HERO_V1, &path, &src, NULL));
    ayon_string_free(path);
    OK(ayon_context_cached_len(connected, &n));
    CHECK(n > 0);
    OK(ayon_context_clear_cache(ctx));
    OK(ayon_context_cached_len(connected, &n));
    CHECK(n == 0);
    OK(ayon_resolve_owned(r, NULL, HERO_V1, &path, &src, NULL));
    ayon_string_free(path);
    OK(ayon_context_drop_cache(ctx));
    OK(ayon_context_cached_len(ctx, &n));
    CHECK(n == 0);
    OK(ayon_context_cached_len(connected, &n));
    CHECK(n > 0);

    /* A pinning file for one context only. */
    snprintf(pin, sizeof pin, "%s/pin.json", dir);
    write_file(pin, "{\"ayon_resolver_pinning_data\": {\"" HERO_V2 "\": \"{root[work]}/v2.usd\"}}");
    OK(ayon_context_set_pinning_file(ctx, pin, "work=/pinned", NULL));
    OK(ayon_resolve_owned(r, ctx, HERO_V2, &path, &src, NULL));
    CHECK(strcmp(path, "/pinned/v2.usd") == 0 && src == AYON_SOURCE_PINNING);
    ayon_string_free(path);
    OK(ayon_resolve_owned(r, NULL, HERO_V2, &path, &src, NULL));
    CHECK(strcmp(path, "/pinned/v2.usd") != 0);
    ayon_string_free(path);
    CHECK(ayon_context_set_pinning_file(ctx, "/no/such/pin.json", NULL, &err) == AYON_ERROR_CONFIG);
    ayon_error_free(err);
    OK(ayon_resolve_owned(r, ctx, HERO_V2, &path, &src, NULL));
    CHECK(src == AYON_SOURCE_PINNING);
    ayon_string_free(path);
    OK(ayon_context_clear_pinning_file(ctx));
    OK(ayon_resolve_owned(r, ctx, HERO_V2, &path, &src, NULL));
    CHECK(src != AYON_SOURCE_PINNING);
    ayon_string_free(path);
    CHECK(ayon_context_drop_cache(NULL) == AYON_ERROR_NULL_ARGUMENT);

    /* Contexts outlive their resolver handle. */
    ayon_resolver_free(r);
    OK(ayon_context_cached_len(connected, &n));
    ayon_context_free(ctx);
    ayon_context_free(other);
    ayon_context_free(connected);

    farm_resolver(dir);
    done("contexts");
    return 0;
}
