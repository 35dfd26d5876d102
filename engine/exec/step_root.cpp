#include "exec/step_root.h"

#include "base/error.h"
#include "exec/rooted_path.h"
#include "exec/tree_copy.h"
#include "exec/unique_fd.h"

#include <cerrno>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

StepRoot StepRoot::prepare(Snapshot parent, fs::path dir, SnapshotMode mode)
{
    std::error_code ec;
    if (fs::exists(dir / "upper", ec) || fs::exists(dir / "rootfs", ec))
        throw Error("step root " + dir.string() + ": already in use");
    fs::create_directories(dir, ec);
    if (ec)
        throw Error("step root " + dir.string() + ": " + ec.message());
    StepRoot root(std::move(parent), dir, mode);
    if (mode == SnapshotMode::Copy) {
        SnapshotView(root.parent_).materialize(root.rootfsDir());
    } else {
        for (const char* d : {"upper", "work", "merged"})
            fs::create_directories(dir / d);
        if (root.parent_.layers.empty())
            fs::create_directories(dir / "empty");
        const bool userNamespace = mode == SnapshotMode::OverlayInUserNamespace;
        if (!overlayOptionsFit(root.lowerDirsTopFirst(), root.upperDir(), root.workDir(), userNamespace)) {
            // Deep images and long Dockerfiles outgrow one page of mount options: this step's
            // lower becomes one copy of the parent; its upper (the diff) is the same either way.
            SnapshotView(root.parent_).materialize(root.flatLowerDir(), CopyMode::Link); // read-only lower
            root.flattened_ = true;
        }
        // The root of the merged tree takes the upper dir's metadata once it is copied up.
        ::chmod(root.upperDir().c_str(), 0755);
    }
    return root;
}

std::vector<fs::path> StepRoot::lowerDirsTopFirst() const
{
    if (flattened_)
        return {flatLowerDir()};
    std::vector<fs::path> lowers;
    for (auto it = parent_.layers.rbegin(); it != parent_.layers.rend(); ++it) {
        if (it->format != WhiteoutFormat::Overlay)
            throw Error("step root " + dir_.string() + ": layer " + it->dir.string() +
                        " has OCI whiteouts and cannot be an overlay lower directory");
        lowers.push_back(it->dir);
    }
    if (lowers.empty())
        lowers.push_back(dir_ / "empty");
    return lowers;
}

std::string StepRoot::overlayOptions() const
{
    return exec::overlayOptions(lowerDirsTopFirst(), upperDir(), workDir(),
                                mode_ == SnapshotMode::OverlayInUserNamespace);
}

bool StepRoot::exists(const std::string& rel) const
{
    if (rel.empty())
        return true;
    if (mode_ == SnapshotMode::Copy) {
        struct stat st {};
        return ::lstat((rootfsDir() / rel).c_str(), &st) == 0;
    }
    return SnapshotView(parent_.with({upperDir(), WhiteoutFormat::Overlay})).find(rel).has_value();
}

bool StepRoot::removeStub(const std::string& rel) const
{
    fs::path p = (mode_ == SnapshotMode::Copy ? rootfsDir() : upperDir()) / rel;
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0)
        return false;
    if (S_ISREG(st.st_mode) && st.st_size == 0)
        return ::unlink(p.c_str()) == 0;
    if (S_ISDIR(st.st_mode))
        return ::rmdir(p.c_str()) == 0; // fails, as it should, when not empty
    return false;
}

SnapshotLayer StepRoot::finish() const
{
    if (mode_ != SnapshotMode::Copy) {
        if (flattened_) {
            std::error_code ec;
            fs::remove_all(flatLowerDir(), ec); // only the mount needed it
        }
        return {upperDir(), WhiteoutFormat::Overlay};
    }
    std::error_code ec;
    fs::remove_all(diffDir(), ec);
    diffTrees(SnapshotView(parent_), rootfsDir(), diffDir());
    return {diffDir(), WhiteoutFormat::Oci};
}

namespace {

bool sameNode(const fs::path& a, const struct stat& sa, const fs::path& b, const struct stat& sb)
{
    if ((sa.st_mode & S_IFMT) != (sb.st_mode & S_IFMT) || (sa.st_mode & 07777) != (sb.st_mode & 07777) ||
        sa.st_uid != sb.st_uid || sa.st_gid != sb.st_gid)
        return false;
    if (S_ISDIR(sa.st_mode))
        return sa.st_mtim.tv_sec == sb.st_mtim.tv_sec && sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec;
    if (S_ISLNK(sa.st_mode)) {
        char ta[4096], tb[4096];
        ssize_t na = ::readlink(a.c_str(), ta, sizeof ta), nb = ::readlink(b.c_str(), tb, sizeof tb);
        return na == nb && na >= 0 && std::string_view(ta, static_cast<size_t>(na)) == std::string_view(tb, static_cast<size_t>(nb));
    }
    if (S_ISCHR(sa.st_mode) || S_ISBLK(sa.st_mode))
        return sa.st_rdev == sb.st_rdev;
    // Regular files: the copy kept mtimes, so any write shows as a new mtime or size.
    return sa.st_size == sb.st_size && sa.st_mtim.tv_sec == sb.st_mtim.tv_sec &&
           sa.st_mtim.tv_nsec == sb.st_mtim.tv_nsec;
}

class TreeDiffer {
public:
    TreeDiffer(const SnapshotView& lower, fs::path work, fs::path out)
        : lower_(lower), work_(std::move(work)), out_(std::move(out))
    {
    }

    void run()
    {
        fs::create_directories(out_);
        struct stat st {};
        if (::lstat(work_.c_str(), &st) == 0)
            ::chmod(out_.c_str(), st.st_mode & 07777);
        diffDir("");
        copier_.finish();
    }

private:
    static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

    void ensureDir(const std::string& rel)
    {
        if (rel.empty() || made_.count(rel))
            return;
        auto slash = rel.rfind('/');
        ensureDir(slash == std::string::npos ? std::string() : rel.substr(0, slash));
        struct stat st {};
        if (::lstat((work_ / rel).c_str(), &st) != 0)
            throw Error(errnoMessage((work_ / rel).string()));
        copier_.copyNode(work_ / rel, st, out_ / rel);
        made_.insert(rel);
    }

    void addWhole(const std::string& rel)
    {
        auto slash = rel.rfind('/');
        ensureDir(slash == std::string::npos ? std::string() : rel.substr(0, slash));
        addTree(rel);
    }

    void addTree(const std::string& rel)
    {
        struct stat st {};
        fs::path src = work_ / rel;
        if (::lstat(src.c_str(), &st) != 0)
            throw Error(errnoMessage(src.string()));
        if (S_ISREG(st.st_mode) && ::link(src.c_str(), (out_ / rel).c_str()) == 0)
            return; // shares the inode, so hardlinks between new files stay hardlinks
        copier_.copyNode(src, st, out_ / rel);
        if (!S_ISDIR(st.st_mode))
            return;
        made_.insert(rel);
        for (const auto& name : children(src))
            addTree(join(rel, name));
    }

    static std::vector<std::string> children(const fs::path& dir)
    {
        std::vector<std::string> names;
        if (DIR* d = ::opendir(dir.c_str())) {
            while (dirent* de = ::readdir(d)) {
                std::string n = de->d_name;
                if (n != "." && n != "..")
                    names.push_back(n);
            }
            ::closedir(d);
        }
        return names;
    }

    void diffDir(const std::string& rel)
    {
        auto lowerChildren = lower_.list(rel);
        std::set<std::string> seen;
        for (const auto& name : children(work_ / rel)) {
            seen.insert(name);
            std::string childRel = join(rel, name);
            struct stat ws {};
            ::lstat((work_ / childRel).c_str(), &ws);
            auto it = lowerChildren.find(name);
            struct stat ls {};
            if (it == lowerChildren.end() || ::lstat(it->second.c_str(), &ls) != 0 ||
                (ls.st_mode & S_IFMT) != (ws.st_mode & S_IFMT)) {
                // New, or a different type: appliers replace whatever was there.
                addWhole(childRel);
                continue;
            }
            if (S_ISDIR(ws.st_mode)) {
                if (!sameNode(it->second, ls, work_ / childRel, ws))
                    ensureDir(childRel);
                diffDir(childRel);
                continue;
            }
            if (!sameNode(it->second, ls, work_ / childRel, ws))
                addWhole(childRel);
        }
        for (const auto& [name, path] : lowerChildren)
            if (!seen.count(name))
                whiteout(rel, name);
    }

    void whiteout(const std::string& rel, const std::string& name)
    {
        ensureDir(rel);
        fs::path marker = out_ / rel / (std::string(OciWhiteoutPrefix) + name);
        UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0000));
        if (!fd.valid())
            throw Error(errnoMessage(marker.string()));
    }

    const SnapshotView& lower_;
    fs::path work_;
    fs::path out_;
    TreeCopier copier_;
    std::set<std::string> made_;
};

} // namespace

void diffTrees(const SnapshotView& lower, const fs::path& work, const fs::path& out)
{
    TreeDiffer(lower, work, out).run();
}

} // namespace cachescope::exec
