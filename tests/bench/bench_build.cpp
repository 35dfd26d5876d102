// Benchmark (not a test): real builds timed as CLI runs (`cachescope-cli build`, a fresh process and an
// empty data dir each run, as `buildctl build` runs against a pruned daemon), on fixtures 01-04 and on
// a generated project (~25 steps, 3 stages, ~2,000 context files, ~30 MB):
//   cold             no cache source
//   local            all cached from a --cache-to type=local,mode=max export of a cold build
//   registry         all cached from a type=registry,mode=max export on a loopback docker-registry
//   one-file         one context file changed, imported from the local export
// Each line is the median of N runs (default 5, the series taking turns), with min and max, and for the fixtures BuildKit v0.24's
// time for the same run on a 2-core machine (median of the fixture's timings.tsv rows) and the ratio.
// Then one build whose RUN writes a 1 GiB file: wall time and the peak RSS of the build process.
// The load average is printed before each series: the machine may be shared.
//   bench_build [--runs N] [--only NAME] [--big-mb N] [--no-big] [--keep]
//   (CACHESCOPE_BENCH_DIR: scratch, default /tmp; --keep leaves it, with each series' last log)
#include "base/error.h"
#include "base/files.h"
#include "support/fixtures.h"
#include "support/registry_launcher.h"

#include <QCoreApplication>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace cachescope;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kBaseName = "127.0.0.1:5055/library/busybox:latest";

fs::path bk() { return test::fixturesDir() / "buildkit-v0.24"; }

std::string loadAverage()
{
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
}

struct CliRun {
    double seconds = 0;
    long maxRssKb = 0; // the largest single process of the build's tree (wait4 rusage)
};

// Runs cachescope-cli with XDG_DATA_HOME=dataHome, output to `log`. Throws Error with the log's tail
// when it fails.
CliRun runCli(const std::vector<std::string>& args, const fs::path& dataHome, const fs::path& log)
{
    std::vector<std::string> argv{CACHESCOPE_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    const auto start = Clock::now();
    const pid_t pid = ::fork();
    if (pid < 0)
        throw Error("fork failed");
    if (pid == 0) {
        ::setenv("XDG_DATA_HOME", dataHome.c_str(), 1);
        std::FILE* out = std::fopen(log.c_str(), "w");
        if (out) {
            ::dup2(::fileno(out), 1);
            ::dup2(::fileno(out), 2);
        }
        ::execv(cargv[0], cargv.data());
        ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    CliRun r;
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.maxRssKb = usage.ru_maxrss;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string text = fs::exists(log) ? readFile(log) : std::string();
        if (text.size() > 3000)
            text = text.substr(text.size() - 3000);
        throw Error("cachescope-cli " + args.front() + " failed (status " + std::to_string(status) + "):\n" + text);
    }
    return r;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// BuildKit's time for a run of a fixture: the median of its timings.tsv rows `timing-<run>-<i>` (the
// README's repeated runs behind its timing table), else of the rows named `run`. 0 when there is none.
double buildkitReference(const std::string& fixture, const std::string& run)
{
    std::vector<double> values, repeats;
    for (const auto& f : test::readTsv(bk() / fixture / "timings.tsv")) {
        if (f.size() < 5 || f[4] != "0")
            continue;
        if (f[1] == run)
            values.push_back(std::stod(f[3]));
        else if (f[1].starts_with("timing-" + run + "-"))
            repeats.push_back(std::stod(f[3]));
    }
    return median(repeats.empty() ? values : repeats);
}

// ---- the generated project ---------------------------------------------------------------------

// Source-like text (compresses about 3x).
std::string text(std::mt19937_64& rng, std::size_t size)
{
    static const char* words[] = {"return", "const", "layer", "cache", "build", "int", "struct", "value",
                                  "digest", "for", "if", "std::string", "auto", "void", "while", "{", "}", ";"};
    std::string s;
    s.reserve(size + 32);
    while (s.size() < size) {
        const std::uint64_t r = rng();
        s += words[r % 18];
        s += (r >> 8) % 9 == 0 ? '\n' : ' ';
        if ((r >> 16) % 6 == 0)
            s += std::to_string(r >> 44);
    }
    s.resize(size);
    return s;
}

// Writes `count` files totalling about `bytes` under root/dir, in subdirectories of 50.
std::uint64_t writeTree(const fs::path& root, const std::string& dir, int count, std::uint64_t bytes, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::uint64_t total = 0;
    const std::uint64_t average = bytes / static_cast<std::uint64_t>(count);
    for (int i = 0; i < count; ++i) {
        const fs::path sub = root / dir / ("pkg" + std::to_string(i / 50));
        fs::create_directories(sub);
        const std::size_t size = static_cast<std::size_t>(average / 4 + rng() % (average * 3 / 2 + 1));
        std::ofstream(sub / ("file" + std::to_string(i) + ".txt"), std::ios::binary) << text(rng, size);
        total += size;
    }
    return total;
}

// ~25 steps in 3 stages over ~2,000 files / ~30 MB: deps (vendor/), builder (src/, config/), final (assets/).
fs::path generateProject(const fs::path& root, std::uint64_t& files, std::uint64_t& bytes)
{
    fs::remove_all(root);
    fs::create_directories(root);
    bytes = writeTree(root, "vendor", 700, 11u << 20, 1) + writeTree(root, "src", 1000, 14u << 20, 2) +
            writeTree(root, "config", 200, 2u << 20, 3) + writeTree(root, "assets", 100, 3u << 20, 4);
    files = 2000;
    std::ofstream(root / "README.md") << "generated benchmark project\n";
    std::ofstream(root / ".dockerignore") << "*.tmp\n";
    std::ofstream(root / "Dockerfile") << "FROM " << kBaseName << R"( AS deps
WORKDIR /deps
COPY vendor/ ./vendor/
RUN find vendor -type f | wc -l > count.txt
RUN cat vendor/pkg0/*.txt | md5sum > vendor.md5
RUN mkdir -p out && cp -r vendor/pkg1 vendor/pkg2 out/
ENV DEPS_READY=1
RUN echo deps > /deps/done.txt

FROM )" << kBaseName << R"( AS builder
WORKDIR /src
COPY --from=deps /deps/vendor.md5 /deps/count.txt ./
COPY src/ ./src/
RUN find src -name '*.txt' | sort > files.txt
RUN wc -l < files.txt > nfiles.txt
RUN tar -cf /tmp/src.tar src && md5sum /tmp/src.tar > src.md5 && rm /tmp/src.tar
ARG VERSION=1.0
RUN echo "version $VERSION" > version.txt
COPY config/ ./config/
RUN sha256sum config/*/* > config.sums
RUN mkdir -p /out && cp nfiles.txt src.md5 version.txt config.sums /out/

FROM )" << kBaseName << R"(
WORKDIR /app
COPY --from=builder /out/ ./
COPY --from=deps /deps/done.txt ./
COPY assets/ ./assets/
RUN ls -la > listing.txt
ENV APP_MODE=prod
RUN echo ready > ready.txt
COPY README.md ./
CMD ["cat", "/app/ready.txt"]
)";
    return root;
}

// ---- the series --------------------------------------------------------------------------------

struct Project {
    std::string name;
    fs::path context;
    fs::path modified; // the same context with one file changed
    bool fixture = false;
};

struct Series {
    std::vector<double> seconds;
    long maxRssKb = 0;
};

class Bench {
public:
    Bench(fs::path scratch, int runs, std::string registryHost)
        : scratch_(std::move(scratch)), runs_(runs), registry_(std::move(registryHost))
    {
        base_ = kBaseName + "=oci-layout://" + (bk() / "base-image" / "oci").string() + ":latest";
    }

    void project(const Project& p)
    {
        const fs::path dir = scratch_ / p.name;
        fs::create_directories(dir);
        const fs::path localExport = dir / "export-local";
        const std::string registryRef = registry_ + "/bench/" + p.name + ":cache";
        // The exports every import series reads (one cold build each, not timed).
        build(p.context, {"--cache-to", "type=local,dest=" + localExport.string() + ",mode=max"}, dir / "prep-local");
        build(p.context, {"--cache-to", "type=registry,ref=" + registryRef + ",mode=max"}, dir / "prep-registry");

        std::printf("\n%s (load average before: %s)\n", p.name.c_str(), loadAverage().c_str());
        std::printf("  %-10s %8s %8s %8s %9s %9s %7s\n", "series", "median", "min", "max", "peak RSS", "BuildKit",
                    "ratio");
        struct Spec {
            const char* name;
            const char* run; // the fixture's timings.tsv row
            fs::path context;
            std::vector<std::string> extra;
        };
        const std::vector<Spec> specs{
            {"cold", "cold-noexport", p.context, {}},
            {"local", "import-local-max", p.context, {"--cache-from", "type=local,src=" + localExport.string()}},
            {"registry", "import-registry-max", p.context, {"--cache-from", "type=registry,ref=" + registryRef}},
            {"one-file", "modified-import-local-max", p.modified,
             {"--cache-from", "type=local,src=" + localExport.string()}},
        };
        // Round robin, not series after series: every series meets the same machine and filesystem
        // state (on ext4 without a journal, creating files right after thousands were deleted is
        // several times slower, and each run deletes its data dir).
        std::vector<Series> results(specs.size());
        for (int i = 0; i < runs_; ++i)
            for (std::size_t k = 0; k < specs.size(); ++k) {
                const CliRun r = build(specs[k].context, specs[k].extra, dir / specs[k].name);
                results[k].seconds.push_back(r.seconds);
                results[k].maxRssKb = std::max(results[k].maxRssKb, r.maxRssKb);
            }
        for (std::size_t k = 0; k < specs.size(); ++k)
            line(p, specs[k].name, specs[k].run, results[k]);
    }

    // One build whose RUN writes `mb` MiB of incompressible bytes: the layer streams through tar and gzip.
    void bigLayer(int mb)
    {
        const fs::path ctx = scratch_ / "big-context";
        fs::create_directories(ctx);
        std::ofstream(ctx / "Dockerfile") << "FROM " << kBaseName << "\nRUN head -c " << mb
                                          << "m /dev/urandom > /big.bin && ls -l /big.bin\n";
        std::printf("\n1 GiB layer (load average before: %s)\n", loadAverage().c_str());
        const fs::path home = scratch_ / "big-home";
        fs::remove_all(home);
        fs::create_directories(home);
        const CliRun r = runCli({"build", "--build-context", base_, "--progress", "plain", ctx.string()}, home,
                                scratch_ / "big.log");
        std::uint64_t blobBytes = 0;
        for (const auto& e : fs::recursive_directory_iterator(home))
            if (e.is_regular_file() && e.path().parent_path().filename() == "sha256")
                blobBytes = std::max<std::uint64_t>(blobBytes, e.file_size());
        std::printf("  RUN writing %d MiB: %.1f s, largest blob %.1f MiB, peak RSS of the build %.1f MiB "
                    "(goal < 256 MiB: %s)\n",
                    mb, r.seconds, static_cast<double>(blobBytes) / (1 << 20), static_cast<double>(r.maxRssKb) / 1024,
                    r.maxRssKb < 256 * 1024 ? "met" : "NOT met");
        fs::remove_all(home);
    }

private:
    CliRun build(const fs::path& context, std::vector<std::string> extra, const fs::path& home)
    {
        fs::remove_all(home);
        fs::create_directories(home);
        std::vector<std::string> args{"build", "--build-context", base_, "--progress", "plain"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.push_back(context.string());
        const CliRun r = runCli(args, home, home.string() + ".log");
        fs::remove_all(home); // every run starts from an empty data dir
        ::sync();             // and on a settled disk: the removal's writes are not left to the next run
        return r;
    }

    void line(const Project& p, const char* name, const std::string& run, const Series& s)
    {
        const double m = median(s.seconds);
        const double ref = p.fixture ? buildkitReference(p.name, run) : 0;
        std::printf("  %-10s %7.3fs %7.3fs %7.3fs %7.1fMiB", name, m, *std::min_element(s.seconds.begin(), s.seconds.end()),
                    *std::max_element(s.seconds.begin(), s.seconds.end()), static_cast<double>(s.maxRssKb) / 1024);
        if (ref > 0)
            std::printf(" %8.3fs %6.2fx\n", ref, m / ref);
        else
            std::printf(" %9s %7s\n", "-", "-");
        std::fflush(stdout);
    }

    fs::path scratch_;
    int runs_;
    std::string registry_;
    std::string base_;
};

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    int runs = 5, bigMb = 1024;
    bool big = true, keep = false;
    std::string only;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == "--runs" && i + 1 < args.size())
            runs = std::max(1, args[++i].toInt());
        else if (args[i] == "--only" && i + 1 < args.size())
            only = args[++i].toStdString();
        else if (args[i] == "--big-mb" && i + 1 < args.size())
            bigMb = std::max(1, args[++i].toInt());
        else if (args[i] == "--no-big")
            big = false;
        else if (args[i] == "--keep")
            keep = true;
    }
    const char* dir = std::getenv("CACHESCOPE_BENCH_DIR");
    const fs::path scratch = fs::path(dir ? dir : "/tmp") / ("bench-build-" + std::to_string(::getpid()));
    fs::create_directories(scratch);
    // Step roots must be reachable by the sandbox user: keep the scratch tree traversable.
    fs::permissions(scratch, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);

    test::RegistryLauncher registry;
    if (!registry.start()) {
        std::fprintf(stderr, "bench_build: %s\n", qPrintable(registry.errorString()));
        return 1;
    }
    std::printf("cachescope-cli build, %d runs per series (median, min, max); registry: docker-registry on %s\n", runs,
                registry.host().c_str());
    std::printf("BuildKit: v0.24 `buildctl build` wall time on a 2-core VM (fixture timings.tsv, median); ratio = "
                "CacheScope / BuildKit (< 1: faster)\n");
    int rc = 0;
    try {
        Bench bench(scratch, runs, registry.host());
        for (const std::string fx : {"01-single-stage", "02-multi-stage", "03-build-args", "04-scratch-copy"})
            if (only.empty() || only == fx)
                bench.project(Project{fx, bk() / fx / "context", bk() / fx / "context-modified", true});
        if (only.empty() || only == "generated") {
            std::uint64_t files = 0, bytes = 0;
            const fs::path gen = generateProject(scratch / "generated-context", files, bytes);
            const fs::path changed = scratch / "generated-context-modified";
            fs::remove_all(changed);
            fs::copy(gen, changed, fs::copy_options::recursive);
            std::ofstream(changed / "src" / "pkg7" / "file371.txt", std::ios::app) << "one more line\n";
            std::printf("\ngenerated project: %llu files, %.1f MiB, 3 stages\n", static_cast<unsigned long long>(files),
                        static_cast<double>(bytes) / (1 << 20));
            bench.project(Project{"generated", gen, changed, false});
        }
        if (big && (only.empty() || only == "big"))
            bench.bigLayer(bigMb);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_build: %s\n", e.what());
        rc = 1;
    }
    std::error_code ec;
    if (keep)
        std::printf("scratch kept: %s\n", scratch.c_str());
    else
        fs::remove_all(scratch, ec);
    return rc;
}
