/* Shared helpers of the C test programs: checks that name the failing line, the harness's
 * step protocol ("@@ command" on stdout, "ok" back on stdin), and the test's environment. */
#ifndef AYON_TEST_COMMON_H
#define AYON_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ayon_resolver.h"

#define HERO_V1 "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd"
#define HERO_V2 "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v002&representation=usd"
#define HERO_LATEST "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=latest&representation=usd"
#define NEVER_SEEN "ayon+entity://demo_offline/assets/characters/hero?product=modelMain&version=v001&representation=abc"

static int checks_run = 0;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        checks_run++;                                                                \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(2);                                                                 \
        }                                                                            \
    } while (0)

/* A call that must succeed; prints its error otherwise. */
#define OK(call)                                                                            \
    do {                                                                                    \
        ayon_result ok_rc_ = (call);                                                        \
        checks_run++;                                                                       \
        if (ok_rc_ != AYON_OK) {                                                            \
            fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,            \
                    ayon_result_code_str(ok_rc_));                                          \
            exit(2);                                                                        \
        }                                                                                   \
    } while (0)

static const char *need_env(const char *name) {
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        fprintf(stderr, "%s is not set\n", name);
        exit(2);
    }
    return v;
}

/* Asks the Rust harness to act on the test server ("crash", "restart", "stop") and waits. */
static void harness(const char *command) __attribute__((unused));
static void harness(const char *command) {
    char line[64];
    printf("@@ %s\n", command);
    fflush(stdout);
    if (fgets(line, sizeof line, stdin) == NULL || strncmp(line, "ok", 2) != 0) {
        fprintf(stderr, "the harness did not acknowledge %s\n", command);
        exit(2);
    }
}

/* A resolver for the test server of the harness, its cache in AYON_TEST_DIR. */
static ayon_resolver *test_resolver(bool monitor) {
    ayon_resolver_config c = ayon_resolver_config_default();
    ayon_resolver *r = NULL;
    ayon_error *err = NULL;
    c.server_url = need_env("AYON_TEST_URL");
    c.api_key = need_env("AYON_TEST_TOKEN");
    c.site_id = "offline-test-linux";
    c.cache_dir = need_env("AYON_TEST_DIR");
    c.pinning_policy = AYON_PINNING_LIVE;
    c.monitor = monitor;
    /* Generous: these programs may run under valgrind. */
    c.connect_timeout_ms = 2000;
    c.request_timeout_ms = 10000;
    c.reconnect_initial_ms = 100;
    c.reconnect_max_ms = 500;
    if (ayon_resolver_new(&c, &r, &err) != AYON_OK) {
        fprintf(stderr, "resolver: %s\n", ayon_error_message(err));
        exit(2);
    }
    return r;
}

static ayon_connection_state state_of(const ayon_resolver *r) {
    ayon_connection_state s = AYON_STATE_UNKNOWN;
    OK(ayon_resolver_state(r, &s));
    return s;
}

/* Waits (bounded, polling a fact) for a connection state. */
#include <time.h>
static void wait_state(const ayon_resolver *r, ayon_connection_state want, int seconds) __attribute__((unused));
static void wait_state(const ayon_resolver *r, ayon_connection_state want, int seconds) {
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    int i;
    for (i = 0; i < seconds * 100; i++) {
        if (state_of(r) == want) {
            return;
        }
        nanosleep(&ten_ms, NULL);
    }
    fprintf(stderr, "timed out waiting for state %d (now %d)\n", (int)want, (int)state_of(r));
    exit(2);
}

static void done(const char *name) {
    printf("%s: %d checks passed\n", name, checks_run);
    fflush(stdout);
}

#endif
