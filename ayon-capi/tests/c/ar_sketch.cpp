// The sketch of docs/embedding-c.md: how a C++ Ar 2.0 resolver maps its virtuals onto the
// C ABI. Plain C++17, no USD headers: `std::string` stands in for USD's types. Compiled (and
// run against the test server) by tests/c_programs.rs, so the sketch cannot rot.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ayon_resolver.h"

namespace ayon {

// Owns an ayon_error* for the scope of one call.
struct Error {
    ayon_error *raw = nullptr;
    ~Error() { ayon_error_free(raw); }
    std::string message() const { return raw ? ayon_error_message(raw) : ""; }
};

struct ResolverDeleter {
    void operator()(ayon_resolver *r) const { ayon_resolver_free(r); }
};
struct ContextDeleter {
    void operator()(ayon_context *c) const { ayon_context_free(c); }
};

// What an ArResolverContext would hold: a shared handle on an ayon_context.
using Context = std::shared_ptr<ayon_context>;

class AyonArResolver {
public:
    // The plugin's constructor: never fails, never waits on the network.
    AyonArResolver() {
        ayon_resolver *raw = nullptr;
        if (ayon_resolver_new_from_env(&raw, nullptr) == AYON_OK) {
            resolver_.reset(raw);
        }
    }
    explicit AyonArResolver(const ayon_resolver_config &config) {
        ayon_resolver *raw = nullptr;
        Error e;
        if (ayon_resolver_new(&config, &raw, &e.raw) != AYON_OK) {
            throw std::runtime_error(e.message());
        }
        resolver_.reset(raw);
    }

    // ArResolver::_CreateIdentifier(assetPath, anchorAssetPath)
    std::string CreateIdentifier(const std::string &asset_path, const std::string &anchor) const {
        char *id = nullptr;
        const char *anchor_c = anchor.empty() ? nullptr : anchor.c_str();
        if (ayon_create_identifier(resolver_.get(), asset_path.c_str(), anchor_c, &id, nullptr) != AYON_OK) {
            return std::string();
        }
        std::string out(id);
        ayon_string_free(id);
        return out;
    }

    // ArResolver::_Resolve(assetPath): the bound context (USD's ArResolverContextBinder) or
    // the connected one. A small stack buffer first, the exact size on BUFFER_TOO_SMALL.
    std::string Resolve(const std::string &asset_path, const ayon_context *bound = nullptr) const {
        char stack[512];
        size_t len = 0;
        ayon_result rc = ayon_resolve(resolver_.get(), bound, asset_path.c_str(), stack, sizeof stack, &len,
                                      nullptr, nullptr);
        if (rc == AYON_OK) {
            return std::string(stack, len);
        }
        if (rc == AYON_ERROR_BUFFER_TOO_SMALL) {
            std::vector<char> heap(len + 1);
            if (ayon_resolve(resolver_.get(), bound, asset_path.c_str(), heap.data(), heap.size(), &len, nullptr,
                             nullptr) == AYON_OK) {
                return std::string(heap.data(), len);
            }
        }
        // USD expects an empty ArResolvedPath when an asset does not resolve; a real plugin
        // logs the ayon_error message through TF_WARN here.
        return std::string();
    }

    // ArResolver::_CreateDefaultContextForAsset(assetPath): a context for the stage, and
    // the moment to prewarm the layer's known dependencies in one round trip.
    Context CreateDefaultContextForAsset(const std::vector<std::string> &dependencies) const {
        ayon_context *raw = nullptr;
        if (ayon_context_new(resolver_.get(), &raw, nullptr) != AYON_OK) {
            return Context();
        }
        std::vector<const char *> uris;
        for (const auto &d : dependencies) {
            uris.push_back(d.c_str());
        }
        size_t resolved = 0;
        ayon_prewarm(resolver_.get(), uris.data(), uris.size(), &resolved, nullptr);
        return Context(raw, ContextDeleter());
    }

    // ArResolver::_IsContextDependentPath(assetPath)
    bool IsContextDependentPath(const std::string &asset_path) const {
        bool dependent = false;
        return ayon_is_context_dependent_path(asset_path.c_str(), &dependent) == AYON_OK && dependent;
    }

    // ArResolver::_GetModificationTimestamp(assetPath, resolvedPath): ArTimestamp wants
    // seconds as a double.
    double GetModificationTimestamp(const std::string &resolved_path) const {
        int64_t ns = 0;
        if (ayon_modification_time(resolved_path.c_str(), &ns, nullptr) != AYON_OK) {
            return -1.0;  // ArTimestamp() (invalid)
        }
        return static_cast<double>(ns) / 1e9;
    }

    bool valid() const { return resolver_ != nullptr; }

private:
    std::unique_ptr<ayon_resolver, ResolverDeleter> resolver_;
};

}  // namespace ayon

#ifndef AYON_SKETCH_NO_MAIN
// Exercised by the test: AYON_TEST_URL / AYON_TEST_TOKEN / AYON_TEST_DIR name the server.
int main() {
    const char *url = std::getenv("AYON_TEST_URL");
    const char *token = std::getenv("AYON_TEST_TOKEN");
    const char *dir = std::getenv("AYON_TEST_DIR");
    if (!url || !token || !dir) {
        std::fprintf(stderr, "AYON_TEST_URL, AYON_TEST_TOKEN and AYON_TEST_DIR are needed\n");
        return 2;
    }
    ayon_resolver_config config = ayon_resolver_config_default();
    config.server_url = url;
    config.api_key = token;
    config.cache_dir = dir;
    config.monitor = false;
    config.pinning_policy = AYON_PINNING_LIVE;
    config.request_timeout_ms = 10000;
    ayon::AyonArResolver resolver(config);
    const std::string v1 =
        "ayon+entity://demo_offline/assets/characters/hero?product=usdAsset&version=v001&representation=usd";
    int failures = 0;
    auto check = [&failures](bool ok, const char *what) {
        if (!ok) {
            std::fprintf(stderr, "sketch check failed: %s\n", what);
            failures++;
        }
    };
    ayon::Context ctx = resolver.CreateDefaultContextForAsset({v1});
    check(ctx != nullptr, "context");
    std::string path = resolver.Resolve(v1, ctx.get());
    check(path.find(".usd") != std::string::npos, "resolve");
    check(resolver.Resolve(std::string(600, 'x')).empty(), "long missing path resolves to empty");
    check(resolver.CreateIdentifier(v1, "/shot.usd") == v1, "identifier");
    check(resolver.IsContextDependentPath(v1), "context dependent");
    check(!resolver.IsContextDependentPath("/abs.usd"), "not context dependent");
    std::string here = std::string(dir) + "/stamp.usd";
    if (FILE *f = std::fopen(here.c_str(), "w")) {
        std::fclose(f);
    }
    check(resolver.GetModificationTimestamp(here) > 1e9, "timestamp");
    check(resolver.GetModificationTimestamp(here + ".missing") < 0, "missing timestamp");
    if (failures == 0) {
        std::printf("ar_sketch: ok\n");
    }
    return failures == 0 ? 0 : 2;
}
#endif
