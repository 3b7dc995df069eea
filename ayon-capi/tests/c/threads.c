/* 8 pthreads resolve (buffer and owned) through one resolver and one shared context while
 * another thread drops, clears and deletes from the cache; every answer must be right. */
#include <pthread.h>
#include <sched.h>
#include "common.h"

#define THREADS 8
#define ROUNDS 200

static ayon_resolver *resolver;
static ayon_context *shared_ctx;
static char expect_v1[1024], expect_v2[1024];
static int stop_churn = 0;
static long churns = 0;

static void *resolve_loop(void *arg) {
    long t = (long)arg;
    char buf[1024];
    size_t len;
    int i;
    for (i = 0; i < ROUNDS; i++) {
        const char *uri = ((i + t) % 2) ? HERO_V1 : HERO_V2;
        const char *want = ((i + t) % 2) ? expect_v1 : expect_v2;
        const ayon_context *ctx = (i % 3 == 0) ? NULL : shared_ctx;
        if (i % 5 == 0) {
            char *owned = NULL;
            if (ayon_resolve_owned(resolver, ctx, uri, &owned, NULL, NULL) != AYON_OK || strcmp(owned, want) != 0) {
                return (void *)1;
            }
            ayon_string_free(owned);
        } else if (ayon_resolve(resolver, ctx, uri, buf, sizeof buf, &len, NULL, NULL) != AYON_OK ||
                   strcmp(buf, want) != 0 || len != strlen(want)) {
            return (void *)1;
        }
    }
    return NULL;
}

static void *churn(void *arg) {
    long n = 0;
    (void)arg;
    while (!__atomic_load_n(&stop_churn, __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&churns, n + 1, __ATOMIC_SEQ_CST);
        switch (n++ % 3) {
        case 0: ayon_context_drop_cache(shared_ctx); break;
        case 1: ayon_context_clear_cache(shared_ctx); break;
        default: ayon_context_delete_from_cache(shared_ctx, HERO_V1, NULL, NULL); break;
        }
    }
    return (void *)n;
}

int main(void) {
    pthread_t workers[THREADS], churner;
    void *ret = NULL;
    long t;
    size_t len;
    ayon_stats stats;

    resolver = test_resolver(false);
    OK(ayon_context_new(resolver, &shared_ctx, NULL));
    OK(ayon_resolve(resolver, NULL, HERO_V1, expect_v1, sizeof expect_v1, &len, NULL, NULL));
    OK(ayon_resolve(resolver, NULL, HERO_V2, expect_v2, sizeof expect_v2, &len, NULL, NULL));
    CHECK(pthread_create(&churner, NULL, churn, NULL) == 0);
    while (__atomic_load_n(&churns, __ATOMIC_SEQ_CST) == 0) {
        sched_yield();
    }
    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_create(&workers[t], NULL, resolve_loop, (void *)t) == 0);
    }
    for (t = 0; t < THREADS; t++) {
        CHECK(pthread_join(workers[t], &ret) == 0);
        CHECK(ret == NULL);
    }
    __atomic_store_n(&stop_churn, 1, __ATOMIC_SEQ_CST);
    CHECK(pthread_join(churner, &ret) == 0);
    CHECK((long)ret > 0);
    OK(ayon_resolver_stats(resolver, &stats));
    CHECK(stats.memory_hits > 0);
    ayon_context_free(shared_ctx);
    ayon_resolver_free(resolver);
    done("threads");
    return 0;
}
