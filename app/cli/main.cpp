// cachescope-cli: the headless shell over the engine.
#include "commands.h"

#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* kUsage = R"(usage: cachescope-cli <command> [options]

commands:
  inspect SPEC... [--json] [--records]
      Import each cache source and report what it holds: form, manifest digest, config size,
      records, layers, roots, problems. SPEC is a buildx --cache-from value:
        type=registry,ref=REF[,registry.insecure=true]   a registry cache (or an image with inline cache)
        type=local,src=DIR[,tag=TAG|digest=sha256:...]   a directory written by --cache-to type=local
        REF                                              shorthand for type=registry,ref=REF
      --records  list every record with its inputs and result chain
      --json     print a JSON document instead (see README.md)
  build [-f FILE] [--target T] [--build-arg K=V]... [--platform P] [--build-context NAME=SRC]...
        [--cache-from SPEC]... [--cache-to SPEC]... [--output type=oci,dest=DIR|type=registry,name=REF] [--no-cache]
        [--progress plain|json] [--report FILE] [--dry-run] CONTEXT
      Build: import the caches, run what misses (RUN in bubblewrap, COPY/WORKDIR as file ops), keep
      results in the local store ($XDG_DATA_HOME/cachescope), write the image and the cache export.
      --dry-run only plans: for every step whether BuildKit would take it from cache, from which
      source, and why not. SRC: docker-image://REF or oci-layout://DIR[:TAG].
  compare [build flags] --cache-from SPEC... [--runs N] [--report FILE] CONTEXT
      Build N times with an empty local store without the import and with it; print every run,
      the medians, the spread and the ratio, and whether the import helped.
  history [--json]
      List the builds kept in the data dir, newest first (1 is the newest).
  history diff A B [--json]
      Step-aligned diff of two builds (a number from the list or a build id): state, source, key, time.
)";

} // namespace

int main(int argc, char* argv[])
{
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = args.front();
    args.erase(args.begin());
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (command == "inspect")
        return inspectCommand(args);
    if (command == "build")
        return buildCommand(args);
    if (command == "compare")
        return compareCommand(args);
    if (command == "history")
        return historyCommand(args);
    std::fprintf(stderr, "cachescope-cli: unknown command \"%s\" (see --help)\n", command.c_str());
    return 2;
}
