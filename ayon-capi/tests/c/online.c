/* Online then offline: resolve into a buffer and as an owned string, batches, prewarm,
 * stats, identifiers, deliberate misuse; then the server crashes and cached answers keep
 * coming while a never-seen URI fails as offline. */
#include "common.h"

static void misuse(const ayon_resolver *r) {
    char small[4];
    size_t len = 0;
    char *owned = NULL;
    ayon_error *err = NULL;
    ayon_source src;

    /* NULL handle, NULL string, NULL output: codes, not crashes, and an error when asked. */
    CHECK(ayon_resolve(NULL, NULL, HERO_V1, small, sizeof small, &len, NULL, &err) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(err != NULL && ayon_error_code(err) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(strstr(ayon_error_message(err), "resolver") != NULL);
    ayon_error_free(err);
    err = NULL;
    CHECK(ayon_resolve(r, NULL, NULL, small, sizeof small, &len, NULL, NULL) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(ayon_resolve_owned(r, NULL, HERO_V1, NULL, NULL, NULL) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(ayon_resolver_new(NULL, NULL, NULL) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(ayon_string_free(NULL) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(ayon_error_code(NULL) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(strcmp(ayon_error_message(NULL), "") == 0);
    ayon_error_free(NULL);
    ayon_resolver_free(NULL);
    ayon_context_free(NULL);
    ayon_batch_free(NULL);
    ayon_subscription_free(NULL);
    CHECK(ayon_batch_len(NULL) == 0);
    CHECK(ayon_batch_get(NULL, 0, NULL, NULL) == AYON_ERROR_NULL_ARGUMENT);

    /* Too small a buffer: the needed length, nothing written. */
    len = 0;
    memset(small, 'x', sizeof small);
    CHECK(ayon_resolve(r, NULL, HERO_V1, small, sizeof small, &len, &src, NULL) == AYON_ERROR_BUFFER_TOO_SMALL);
    CHECK(len > sizeof small);
    CHECK(small[0] == 'x');
    /* NULL buffer: a length query. */
    CHECK(ayon_resolve(r, NULL, HERO_V1, NULL, 0, &len, NULL, NULL) == AYON_ERROR_BUFFER_TOO_SMALL);

    /* Invalid UTF-8. */
    CHECK(ayon_resolve_owned(r, NULL, "\xff\xfe", &owned, NULL, NULL) == AYON_ERROR_INVALID_UTF8);
    CHECK(owned == NULL);
    /* An invalid URI and an empty path: their kinds. */
    CHECK(ayon_resolve_owned(r, NULL, "ayon://demo_offline/a?product=x&version=banana", &owned, NULL, &err) == AYON_ERROR_INVALID_URI);
    CHECK(strstr(ayon_error_message(err), "banana") != NULL);
    ayon_error_free(err);
    CHECK(ayon_resolve_owned(r, NULL, "", &owned, NULL, NULL) == AYON_ERROR_NOT_FOUND);
    CHECK(owned == NULL);
}

int main(void) {
    ayon_resolver *r = test_resolver(true);
    char buf[1024];
    size_t len = 0;
    ayon_source src = AYON_SOURCE_FILESYSTEM;
    char *owned = NULL;
    char *id = NULL;
    ayon_batch *batch = NULL;
    const char *text = NULL;
    size_t warmed = 0;
    ayon_stats stats;
    bool dependent = false;
    ayon_asset_kind kind;
    ayon_error *err = NULL;
    char v1_path[1024];
    char latest_path[1024];
    const char *many[4] = {HERO_V1, "ayon://demo_offline/a?product=x&version=banana", HERO_V2, ""};

    /* Version: header and library agree. */
    snprintf(buf, sizeof buf, "%d.%d.%d", AYON_RESOLVER_VERSION_MAJOR, AYON_RESOLVER_VERSION_MINOR,
             AYON_RESOLVER_VERSION_PATCH);
    CHECK(strcmp(buf, ayon_version()) == 0);
    CHECK(strcmp(ayon_result_code_str(AYON_ERROR_OFFLINE), "offline") == 0);
    CHECK(strcmp(ayon_result_code_str(AYON_ERROR_NOT_PINNED), "not_pinned") == 0);

    CHECK(state_of(r) == AYON_STATE_UNKNOWN);
    OK(ayon_resolver_connect(r, NULL));
    wait_state(r, AYON_STATE_ONLINE, 20);

    /* Into a buffer, from the server; then from memory. */
    OK(ayon_resolve(r, NULL, HERO_V1, buf, sizeof buf, &len, &src, NULL));
    CHECK(len == strlen(buf));
    CHECK(src == AYON_SOURCE_SERVER);
    CHECK(strstr(buf, ".usd") != NULL);
    strcpy(v1_path, buf);
    OK(ayon_resolve(r, NULL, HERO_V1, buf, len + 1, &len, &src, NULL));
    CHECK(src == AYON_SOURCE_CACHE);
    CHECK(strcmp(buf, v1_path) == 0);

    /* Owned string, with SDF format arguments kept. */
    OK(ayon_resolve_owned(r, NULL, HERO_V1 ":SDF_FORMAT_ARGS:target=preview", &owned, &src, NULL));
    CHECK(strncmp(owned, v1_path, strlen(v1_path)) == 0);
    CHECK(strcmp(owned + strlen(v1_path), ":SDF_FORMAT_ARGS:target=preview") == 0);
    CHECK(ayon_string_free(owned) == AYON_OK);
    /* A second free of the same string is refused with a code; the heap is untouched. */
    CHECK(ayon_string_free(owned) == AYON_ERROR_NOT_OWNED);
    {
        char not_ours[] = "not a library string";
        CHECK(ayon_string_free(not_ours) == AYON_ERROR_NOT_OWNED);
    }
    OK(ayon_resolve_owned(r, NULL, HERO_LATEST, &owned, &src, NULL));
    strcpy(latest_path, owned);
    ayon_string_free(owned);

    /* Many, with a per-element result. */
    OK(ayon_resolve_many(r, NULL, many, 4, &batch, NULL));
    CHECK(ayon_batch_len(batch) == 4);
    CHECK(ayon_batch_get(batch, 0, &text, &src) == AYON_OK && strcmp(text, v1_path) == 0);
    CHECK(ayon_batch_get(batch, 1, &text, NULL) == AYON_ERROR_INVALID_URI && strstr(text, "banana") != NULL);
    CHECK(ayon_batch_get(batch, 2, &text, &src) == AYON_OK && strstr(text, "v002") != NULL);
    CHECK(ayon_batch_get(batch, 3, &text, NULL) == AYON_ERROR_NOT_FOUND);
    CHECK(ayon_batch_get(batch, 4, &text, NULL) == AYON_ERROR_OUT_OF_RANGE);
    ayon_batch_free(batch);
    CHECK(ayon_resolve_many(r, NULL, NULL, 2, &batch, NULL) == AYON_ERROR_NULL_ARGUMENT);

    OK(ayon_prewarm(r, many, 3, &warmed, NULL));
    CHECK(warmed == 2);

    OK(ayon_resolver_stats(r, &stats));
    CHECK(stats.server_answers >= 2);
    CHECK(stats.memory_hits >= 2);

    /* Identifiers and asset kinds (no I/O). */
    OK(ayon_create_identifier(r, "./models/tree.usd", "/lib/shot.usd", &id, NULL));
    CHECK(strcmp(id, "/lib/models/tree.usd") == 0);
    ayon_string_free(id);
    OK(ayon_create_identifier(r, HERO_V1, "/lib/shot.usd", &id, NULL));
    CHECK(strcmp(id, HERO_V1) == 0);
    ayon_string_free(id);
    OK(ayon_is_context_dependent_path(HERO_V1, &dependent));
    CHECK(dependent);
    OK(ayon_is_context_dependent_path("/abs/file.usd", &dependent));
    CHECK(!dependent);
    OK(ayon_asset_kind_of("../up.usd", &kind));
    CHECK(kind == AYON_ASSET_FILE_RELATIVE);

    misuse(r);

    /* The server crashes: what was seen keeps resolving, the unseen fails as offline. */
    harness("crash");
    wait_state(r, AYON_STATE_OFFLINE, 20);
    OK(ayon_resolve(r, NULL, HERO_V1, buf, sizeof buf, &len, &src, NULL));
    CHECK(strcmp(buf, v1_path) == 0);
    OK(ayon_resolve(r, NULL, HERO_LATEST, buf, sizeof buf, &len, &src, NULL));
    CHECK(strcmp(buf, latest_path) == 0);
    CHECK(ayon_resolve(r, NULL, NEVER_SEEN, buf, sizeof buf, &len, &src, &err) == AYON_ERROR_OFFLINE);
    CHECK(ayon_error_code(err) == AYON_ERROR_OFFLINE);
    ayon_error_free(err);
    OK(ayon_resolver_stats(r, &stats));
    CHECK(stats.offline_failures >= 1);

    ayon_resolver_free(r);
    done("online");
    return 0;
}
