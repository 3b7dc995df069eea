/* Prepare offline: a progress callback that cancels gets AYON_ERROR_CANCELLED; a full
 * prepare reports what it indexed; then, with the server gone, a URI never resolved before
 * answers from the local index. */
#include "common.h"

struct progress {
    int calls;
    int bad_phase;
    ayon_cancel_token *cancel_on_first;
};

static void on_progress(void *userdata, const ayon_prepare_progress *p) {
    struct progress *s = (struct progress *)userdata;
    s->calls++;
    if (p == NULL || (strcmp(p->phase, "fetching") != 0 && strcmp(p->phase, "writing") != 0)) {
        s->bad_phase++;
    }
    if (s->cancel_on_first != NULL) {
        ayon_cancel_token_cancel(s->cancel_on_first);
    }
}

int main(void) {
    ayon_resolver *r = test_resolver(true);
    ayon_cancel_token *token = ayon_cancel_token_new();
    struct progress s;
    ayon_prepare_report report;
    ayon_error *err = NULL;
    char *path = NULL;
    ayon_source src;
    ayon_resolver_config mem = ayon_resolver_config_default();
    ayon_resolver *memory_only = NULL;

    CHECK(token != NULL);
    CHECK(ayon_prepare_offline(r, NULL, NULL, 0, true, NULL, NULL, NULL, NULL, NULL) == AYON_ERROR_NULL_ARGUMENT);
    CHECK(ayon_cancel_token_cancel(NULL) == AYON_ERROR_NULL_ARGUMENT);

    memset(&s, 0, sizeof s);
    s.cancel_on_first = token;
    CHECK(ayon_prepare_offline(r, "demo_offline", NULL, 0, true, token, on_progress, &s, &report, &err) == AYON_ERROR_CANCELLED);
    CHECK(ayon_error_code(err) == AYON_ERROR_CANCELLED);
    ayon_error_free(err);
    err = NULL;
    CHECK(s.calls >= 1);
    ayon_cancel_token_free(token);

    memset(&s, 0, sizeof s);
    memset(&report, 0, sizeof report);
    OK(ayon_prepare_offline(r, "demo_offline", NULL, 0, true, NULL, on_progress, &s, &report, NULL));
    CHECK(s.calls >= 1 && s.bad_phase == 0);
    CHECK(report.folders > 0 && report.versions > 0 && report.representations > 0 && report.requests > 0);

    /* A memory-only resolver has no index to prepare into. */
    mem.server_url = need_env("AYON_TEST_URL");
    mem.api_key = need_env("AYON_TEST_TOKEN");
    mem.memory_only = true;
    mem.monitor = false;
    OK(ayon_resolver_new(&mem, &memory_only, NULL));
    CHECK(ayon_prepare_offline(memory_only, "demo_offline", NULL, 0, true, NULL, NULL, NULL, NULL, &err) == AYON_ERROR_CONFIG);
    ayon_error_free(err);
    ayon_resolver_free(memory_only);

    harness("crash");
    wait_state(r, AYON_STATE_OFFLINE, 20);
    OK(ayon_resolve_owned(r, NULL, HERO_V2, &path, &src, NULL));
    CHECK(strstr(path, "v002") != NULL);
    CHECK(src == AYON_SOURCE_LOCAL_INDEX);
    ayon_string_free(path);

    ayon_resolver_free(r);
    done("prepare");
    return 0;
}
