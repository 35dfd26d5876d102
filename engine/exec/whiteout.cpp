#include "exec/whiteout.h"

#include <sys/sysmacros.h>
#include <sys/xattr.h>

namespace cachescope::exec {

bool isOverlayWhiteout(const struct stat& st)
{
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool isOverlayOpaque(const std::filesystem::path& dir)
{
    for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
        char value[4] = {};
        ssize_t n = ::lgetxattr(dir.c_str(), name, value, sizeof value);
        if (n == 1 && value[0] == 'y')
            return true;
    }
    return false;
}

bool isOverlayXattr(std::string_view name)
{
    return name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.");
}

} // namespace cachescope::exec
