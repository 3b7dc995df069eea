/* A state-change callback fires when the server restarts (offline, then online again), and
 * is not called after its subscription is freed. */
#include <pthread.h>
#include <time.h>
#include "common.h"

struct seen {
    pthread_mutex_t lock;
    int calls;
    int offline;
    int online_after_offline;
    int bad_userdata;
};

static void on_state(void *userdata, ayon_connection_state state, const char *detail) {
    struct seen *s = (struct seen *)userdata;
    pthread_mutex_lock(&s->lock);
    s->calls++;
    if (detail == NULL || detail[0] == '\0') {
        s->bad_userdata++;
    }
    if (state == AYON_STATE_OFFLINE) {
        s->offline++;
    } else if (state == AYON_STATE_ONLINE && s->offline > 0) {
        s->online_after_offline++;
    }
    pthread_mutex_unlock(&s->lock);
}

static int read_calls(struct seen *s, int which) {
    int v;
    pthread_mutex_lock(&s->lock);
    v = which == 0 ? s->calls : which == 1 ? s->offline : s->online_after_offline;
    pthread_mutex_unlock(&s->lock);
    return v;
}

static void wait_for(struct seen *s, int which, int seconds) {
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    int i;
    for (i = 0; i < seconds * 100 && read_calls(s, which) == 0; i++) {
        nanosleep(&ten_ms, NULL);
    }
    CHECK(read_calls(s, which) > 0);
}

int main(void) {
    ayon_resolver *r = test_resolver(true);
    ayon_subscription *sub = NULL;
    struct seen s;
    int calls;
    ayon_resolver_config bare = ayon_resolver_config_default();
    ayon_resolver *unconfigured = NULL;
    ayon_error *err = NULL;

    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.lock, NULL);
    CHECK(ayon_resolver_on_state_change(r, NULL, &s, &sub, NULL) == AYON_ERROR_NULL_ARGUMENT);
    OK(ayon_resolver_connect(r, NULL));
    wait_state(r, AYON_STATE_ONLINE, 20);
    OK(ayon_resolver_on_state_change(r, on_state, &s, &sub, NULL));
    harness("restart");
    wait_for(&s, 1, 20);
    wait_for(&s, 2, 30);
    CHECK(s.bad_userdata == 0);
    ayon_subscription_free(sub);
    calls = read_calls(&s, 0);
    harness("crash");
    wait_state(r, AYON_STATE_OFFLINE, 20);
    CHECK(read_calls(&s, 0) == calls);

    /* Without a server there is no monitor to subscribe to. */
    bare.memory_only = true;
    OK(ayon_resolver_new(&bare, &unconfigured, NULL));
    CHECK(ayon_resolver_on_state_change(unconfigured, on_state, &s, &sub, &err) == AYON_ERROR_CONFIG);
    ayon_error_free(err);
    ayon_resolver_free(unconfigured);

    ayon_resolver_free(r);
    pthread_mutex_destroy(&s.lock);
    done("callback");
    return 0;
}
