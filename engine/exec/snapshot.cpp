#include "exec/snapshot.h"

#include "base/error.h"
#include "exec/rooted_path.h"
#include "exec/tree_copy.h"
#include "exec/unique_fd.h"

#include <dirent.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

SnapshotView::State SnapshotView::stateIn(const SnapshotLayer& layer, const std::string& rel, fs::path* where) const
{
    fs::path p = layer.dir;
    auto parts = splitPath(rel);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (layer.format == WhiteoutFormat::Oci) {
            struct stat wh {};
            if (::lstat((p / (std::string(OciWhiteoutPrefix) + parts[i])).c_str(), &wh) == 0)
                return State::Hidden;
        }
        fs::path next = p / parts[i];
        struct stat st {};
        if (::lstat(next.c_str(), &st) != 0) {
            // Absent here; an opaque parent still hides what lower layers hold.
            bool opaque = layer.format == WhiteoutFormat::Overlay
                              ? (i > 0 && isOverlayOpaque(p))
                              : (i > 0 && ::lstat((p / std::string(OciOpaqueMarker)).c_str(), &st) == 0);
            return opaque ? State::Hidden : State::Absent;
        }
        if (layer.format == WhiteoutFormat::Overlay && isOverlayWhiteout(st))
            return State::Hidden;
        if (i + 1 < parts.size() && !S_ISDIR(st.st_mode))
            return State::Hidden; // a file (or link) replaced the directory here
        p = next;
    }
    if (where)
        *where = p;
    return State::Present;
}

std::optional<fs::path> SnapshotView::find(const std::string& rel) const
{
    for (auto it = snapshot_.layers.rbegin(); it != snapshot_.layers.rend(); ++it) {
        fs::path where;
        switch (stateIn(*it, rel, &where)) {
        case State::Present:
            return where;
        case State::Hidden:
            return std::nullopt;
        case State::Absent:
            break;
        }
    }
    return std::nullopt;
}

std::map<std::string, fs::path> SnapshotView::list(const std::string& relDir) const
{
    std::map<std::string, fs::path> out;
    std::set<std::string> hidden;
    for (auto it = snapshot_.layers.rbegin(); it != snapshot_.layers.rend(); ++it) {
        fs::path dir;
        State s = relDir.empty() ? State::Present : stateIn(*it, relDir, &dir);
        if (relDir.empty())
            dir = it->dir;
        if (s == State::Hidden)
            break;
        if (s == State::Absent)
            continue;
        struct stat st {};
        if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            break; // a non-directory hides everything below
        bool opaque = false;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (dirent* de = ::readdir(d)) {
                std::string n = de->d_name;
                if (n == "." || n == "..")
                    continue;
                if (it->format == WhiteoutFormat::Oci) {
                    if (n == OciOpaqueMarker) {
                        opaque = true;
                        continue;
                    }
                    if (n.starts_with(OciWhiteoutPrefix)) {
                        hidden.insert(n.substr(OciWhiteoutPrefix.size()));
                        continue;
                    }
                }
                if (hidden.count(n) || out.count(n))
                    continue;
                struct stat cst {};
                if (it->format == WhiteoutFormat::Overlay && ::lstat((dir / n).c_str(), &cst) == 0 &&
                    isOverlayWhiteout(cst)) {
                    hidden.insert(n);
                    continue;
                }
                out.emplace(n, dir / n);
            }
            ::closedir(d);
        }
        if (it->format == WhiteoutFormat::Overlay && isOverlayOpaque(dir))
            opaque = true;
        if (opaque)
            break;
    }
    return out;
}

void SnapshotView::materializeDir(const std::string& rel, const fs::path& dest, TreeCopier& copier,
                                  const PathSubset* subset) const
{
    for (const auto& [name, src] : list(rel)) {
        const std::string childRel = rel.empty() ? name : rel + "/" + name;
        if (subset && !subset->keeps(childRel))
            continue;
        struct stat st {};
        if (::lstat(src.c_str(), &st) != 0)
            throw Error(errnoMessage(src.string()));
        copier.copyNode(src, st, dest / name);
        if (S_ISDIR(st.st_mode))
            materializeDir(childRel, dest / name, copier, subset);
    }
}

void SnapshotView::materialize(const fs::path& dest, CopyMode mode, const PathSubset* subset) const
{
    fs::create_directories(dest);
    TreeCopier copier(mode);
    if (!snapshot_.layers.empty()) {
        // The root directory's own metadata comes from the top-most layer.
        struct stat st {};
        if (::lstat(snapshot_.layers.back().dir.c_str(), &st) == 0) {
            ::chmod(dest.c_str(), st.st_mode & 07777);
            ::lchown(dest.c_str(), st.st_uid, st.st_gid);
        }
    }
    materializeDir("", dest, copier, subset);
    copier.finish();
}

} // namespace cachescope::exec
