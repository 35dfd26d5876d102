// cachescope-cli: the headless shell over the engine.
#include <cstdio>
#include <string_view>

int main(int argc, char* argv[])
{
    if (argc < 2 || std::string_view(argv[1]) == "--help") {
        std::puts("usage: cachescope-cli inspect SPEC... [--json]");
        return argc < 2 ? 2 : 0;
    }
    std::fprintf(stderr, "cachescope-cli: unknown command \"%s\"\n", argv[1]);
    return 2;
}
