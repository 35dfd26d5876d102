#include "solver/platform.h"

namespace cachescope::solver {

Platform defaultPlatform()
{
    Platform p;
    p.os = "linux";
#if defined(__x86_64__)
    p.architecture = "amd64";
#elif defined(__aarch64__)
    p.architecture = "arm64";
    p.variant = "v8";
#elif defined(__i386__)
    p.architecture = "386";
#elif defined(__arm__)
    p.architecture = "arm";
    p.variant = "v7";
#elif defined(__riscv)
    p.architecture = "riscv64";
#elif defined(__s390x__)
    p.architecture = "s390x";
#elif defined(__powerpc64__)
    p.architecture = "ppc64le";
#else
    p.architecture = "amd64";
#endif
    return p;
}

Platform toOciPlatform(const dockerfile::Platform& p)
{
    Platform out;
    out.os = p.os;
    out.architecture = p.architecture;
    out.variant = p.variant;
    out.osVersion = p.osVersion;
    return out;
}

} // namespace cachescope::solver
