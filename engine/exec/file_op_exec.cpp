#include "exec/file_op_exec.h"

#include "base/error.h"
#include "dockerfile/dockerignore.h"
#include "exec/layer_apply.h"
#include "exec/rooted_path.h"
#include "exec/tree_copy.h"
#include "exec/user_spec.h"

#include <cerrno>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fnmatch.h>
#include <fstream>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;
using namespace solver;

namespace {

std::string joinRel(const std::vector<std::string>& parts, std::size_t count)
{
    std::string out;
    for (std::size_t i = 0; i < count && i < parts.size(); ++i)
        out += (out.empty() ? "" : "/") + parts[i];
    return out;
}

std::string sysError(const std::string& what)
{
    return what + ": " + std::strerror(errno);
}

bool hasWildcard(const std::string& s)
{
    return s.find_first_of("*?[") != std::string::npos;
}

std::string parentOf(const std::string& rel)
{
    const auto slash = rel.rfind('/');
    return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

std::string baseOf(const std::string& rel)
{
    const auto slash = rel.rfind('/');
    return slash == std::string::npos ? rel : rel.substr(slash + 1);
}

// chmod(1)-style symbolic modes as `COPY --chmod=u+x,g-w` takes them: comma-separated clauses of
// [ugoa]*[+-=][rwxXst]*; no who means all; X is x for directories and files already executable.
mode_t applySymbolicMode(const std::string& spec, mode_t mode, bool isDir)
{
    mode_t out = mode & 07777;
    std::size_t pos = 0;
    while (pos <= spec.size()) {
        const auto comma = spec.find(',', pos);
        const std::string clause = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? spec.size() + 1 : comma + 1;
        std::size_t i = 0;
        mode_t who = 0;
        for (; i < clause.size() && std::string_view("ugoa").find(clause[i]) != std::string_view::npos; ++i)
            who |= clause[i] == 'u' ? 04700 : clause[i] == 'g' ? 02070 : clause[i] == 'o' ? 01007 : 07777;
        if (who == 0)
            who = 07777;
        if (i >= clause.size() || std::string_view("+-=").find(clause[i]) == std::string_view::npos)
            throw Error("invalid --chmod \"" + spec + "\"");
        while (i < clause.size()) {
            const char op = clause[i++];
            if (std::string_view("+-=").find(op) == std::string_view::npos)
                throw Error("invalid --chmod \"" + spec + "\"");
            mode_t bits = 0;
            for (; i < clause.size() && std::string_view("+-=").find(clause[i]) == std::string_view::npos; ++i) {
                switch (clause[i]) {
                case 'r': bits |= 0444; break;
                case 'w': bits |= 0222; break;
                case 'x': bits |= 0111; break;
                case 'X':
                    if (isDir || (mode & 0111))
                        bits |= 0111;
                    break;
                case 's': bits |= 06000; break;
                case 't': bits |= 01000; break;
                default: throw Error("invalid --chmod \"" + spec + "\"");
                }
            }
            bits &= who;
            if (op == '+')
                out |= bits;
            else if (op == '-')
                out &= ~bits;
            else
                out = (out & ~(who & 07777)) | bits;
        }
    }
    return out;
}

// Whether a file is an archive ADD unpacks: a tar, plain or gzip/zstd/bzip2/xz compressed.
bool isArchive(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    char head[512] = {};
    in.read(head, sizeof head);
    const auto n = in.gcount();
    const auto* u = reinterpret_cast<const unsigned char*>(head);
    if (n >= 2 && u[0] == 0x1f && u[1] == 0x8b)
        return true;
    if (n >= 4 && u[0] == 0x28 && u[1] == 0xb5 && u[2] == 0x2f && u[3] == 0xfd)
        return true;
    if (n >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h')
        return true;
    if (n >= 6 && u[0] == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X' && head[4] == 'Z')
        return true;
    return n >= 262 && std::string_view(head + 257, 5) == "ustar";
}

// A merged tree (a snapshot) read with symlinks resolved inside its root.
class TreeReader {
public:
    explicit TreeReader(Snapshot s) : view_(std::move(s)) {}

    std::optional<fs::path> find(const std::string& rel) const
    {
        if (rel.empty()) {
            if (view_.snapshot().layers.empty())
                return std::nullopt;
            return view_.snapshot().layers.back().dir; // the root: any layer's root dir stat is fine
        }
        return view_.find(rel);
    }

    // Resolves every symlink on the way (the last one too when followLast), confined to the root.
    std::string resolve(const std::string& rel, bool followLast) const
    {
        std::deque<std::string> todo;
        for (auto& p : splitPath(rel))
            todo.push_back(p);
        std::vector<std::string> out;
        int links = 0;
        while (!todo.empty()) {
            std::string p = todo.front();
            todo.pop_front();
            if (p == ".")
                continue;
            if (p == "..") {
                if (!out.empty())
                    out.pop_back();
                continue;
            }
            out.push_back(p);
            const bool last = todo.empty();
            if (last && !followLast)
                break;
            const auto host = view_.find(joinRel(out, out.size()));
            struct stat st {};
            if (!host || ::lstat(host->c_str(), &st) != 0 || !S_ISLNK(st.st_mode))
                continue;
            if (++links > 40)
                throw Error("/" + rel + ": too many levels of symbolic links");
            std::error_code ec;
            const std::string target = fs::read_symlink(*host, ec).string();
            if (ec)
                throw Error(host->string() + ": readlink: " + ec.message());
            out.pop_back();
            if (!target.empty() && target[0] == '/')
                out.clear();
            const auto parts = splitPath(target);
            for (auto it = parts.rbegin(); it != parts.rend(); ++it)
                todo.push_front(*it);
        }
        return joinRel(out, out.size());
    }

    std::map<std::string, fs::path> list(const std::string& rel) const { return view_.list(rel); }

    std::optional<std::string> readFile(const std::string& rel) const
    {
        const auto host = find(resolve(rel, true));
        if (!host)
            return std::nullopt;
        std::ifstream in(*host, std::ios::binary);
        if (!in)
            return std::nullopt;
        return std::string(std::istreambuf_iterator<char>(in), {});
    }

private:
    SnapshotView view_;
};

class FileOpRunner {
public:
    FileOpRunner(const Snapshot& base, fs::path diff) : base_(base), diff_(std::move(diff)) {}

    FileOpResult result;

    TreeReader target() const { return TreeReader(base_.with(SnapshotLayer{diff_, WhiteoutFormat::Overlay})); }

    Owner resolveOwner(const std::optional<ChownOpt>& chown, const TreeReader& t) const
    {
        Owner o;
        if (!chown)
            return o;
        auto reader = [&](const std::string& rel) { return t.readFile(rel); };
        bool gidFromUser = false;
        if (chown->user) {
            if (const auto* id = std::get_if<std::uint32_t>(&chown->user->user)) {
                o.uid = o.gid = *id;
            } else {
                const auto& name = std::get<UserOpt::ByName>(chown->user->user).name;
                const ResolvedUser u = resolveUser(name, reader);
                o.uid = u.uid;
                o.gid = u.gid;
            }
            gidFromUser = true;
        }
        if (chown->group) {
            if (const auto* id = std::get_if<std::uint32_t>(&chown->group->user)) {
                o.gid = *id;
            } else {
                const auto& name = std::get<UserOpt::ByName>(chown->group->user).name;
                o.gid = resolveUser(std::to_string(o.uid) + ":" + name, reader).gid;
            }
        } else if (!gidFromUser) {
            o.gid = 0;
        }
        return o;
    }

    void setOwner(const std::string& rel, const fs::path& host, Owner o)
    {
        if (::lchown(host.c_str(), o.uid, o.gid) != 0) {
            if (errno != EPERM && errno != EINVAL)
                throw Error(sysError("/" + rel + ": chown"));
            result.owners.byPath[rel] = o;
        }
    }

    // Makes `rel` (already resolved) a directory in the diff: copied up from the base when it is a
    // directory there, created (mode, owner) when absent and allowed.
    void ensureDir(const std::string& rel, mode_t mode, Owner owner, bool create, const std::string& what)
    {
        const auto parts = splitPath(rel);
        TreeReader base(base_);
        for (std::size_t i = 1; i <= parts.size(); ++i) {
            const std::string prefix = joinRel(parts, i);
            const fs::path host = diff_ / prefix;
            struct stat st {};
            if (::lstat(host.c_str(), &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                    throw Error(what + ": /" + prefix + " is not a directory");
                continue;
            }
            const auto lower = base.find(prefix);
            struct stat lst {};
            if (lower && ::lstat(lower->c_str(), &lst) == 0) {
                if (!S_ISDIR(lst.st_mode))
                    throw Error(what + ": /" + prefix + " is not a directory");
                if (::mkdir(host.c_str(), 0700) != 0)
                    throw Error(sysError(what + ": mkdir /" + prefix));
                copyMetadata(*lower, lst, host);
                ::chmod(host.c_str(), lst.st_mode & 07777);
                struct timespec times[2] = {lst.st_mtim, lst.st_mtim};
                ::utimensat(AT_FDCWD, host.c_str(), times, AT_SYMLINK_NOFOLLOW);
                continue;
            }
            if (!create && i < parts.size())
                throw Error(what + ": /" + prefix + ": no such directory");
            if (::mkdir(host.c_str(), 0700) != 0)
                throw Error(sysError(what + ": mkdir /" + prefix));
            setOwner(prefix, host, owner);
            ::chmod(host.c_str(), mode & 07777);
            ++result.entries;
        }
    }

    // Removes what the diff holds at `rel` when it is not a directory (a file about to be replaced).
    void clearNonDir(const fs::path& host)
    {
        struct stat st {};
        if (::lstat(host.c_str(), &st) == 0 && !S_ISDIR(st.st_mode))
            ::unlink(host.c_str());
    }

    struct CopyMeta {
        std::optional<Owner> owner; // --chown; else the source's (0:0 for the context)
        bool contextOwners = false;
        std::int32_t mode = -1;
        std::string modeStr;
    };

    void applyMeta(const std::string& rel, const fs::path& src, const struct stat& st, const fs::path& dst,
                   const CopyMeta& meta)
    {
        Owner o{st.st_uid, st.st_gid};
        if (meta.owner)
            o = *meta.owner;
        else if (meta.contextOwners)
            o = Owner{};
        setOwner(rel, dst, o);
        if (!S_ISLNK(st.st_mode)) {
            mode_t m = meta.mode >= 0 && meta.modeStr.empty() ? static_cast<mode_t>(meta.mode) : (st.st_mode & 07777);
            if (!meta.modeStr.empty())
                m = applySymbolicMode(meta.modeStr, st.st_mode, S_ISDIR(st.st_mode));
            if (::chmod(dst.c_str(), m) != 0)
                throw Error(sysError("/" + rel + ": chmod"));
        }
        // After chown, which drops security.capability (and chmod restores the setuid bits it drops).
        copyXattrs(src, dst);
        struct timespec times[2] = {st.st_mtim, st.st_mtim};
        ::utimensat(AT_FDCWD, dst.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }

    // topContents: the directory's contents are copied into dstRel (dirCopyContents), which keeps
    // the metadata it has or was created with, as BuildKit leaves it.
    void copyNode(const FileOpInput& in, const TreeReader& src, const std::string& srcRel, const fs::path& srcHost,
                  const std::string& dstRel, const CopyMeta& meta, const std::string& what, bool topContents = false)
    {
        struct stat st {};
        if (::lstat(srcHost.c_str(), &st) != 0)
            throw Error(sysError(what + ": /" + srcRel));
        const fs::path dst = diff_ / dstRel;
        if (S_ISDIR(st.st_mode)) {
            struct stat dstSt {};
            if (::lstat(dst.c_str(), &dstSt) != 0 || !S_ISDIR(dstSt.st_mode)) {
                ensureDir(parentOf(dstRel), 0755, meta.owner.value_or(Owner{}), true, what);
                clearNonDir(dst);
                // A directory of the base is copied up first so its other entries stay visible.
                ensureDir(dstRel, 0755, topContents ? meta.owner.value_or(Owner{}) : Owner{}, true, what);
            }
            for (const auto& [name, host] : src.list(srcRel)) {
                const std::string childRel = srcRel.empty() ? name : srcRel + "/" + name;
                struct stat cst {};
                const bool isDir = ::lstat(host.c_str(), &cst) == 0 && S_ISDIR(cst.st_mode);
                if (in.excluded && in.excluded(childRel, isDir))
                    continue;
                const std::string childDst = dstRel.empty() ? name : dstRel + "/" + name;
                const std::string rootRel = relToCopyRoot(childRel);
                if (includes_ && !includes_->excluded(rootRel)) {
                    // COPY --parents: only what the pattern names, with the directories on its way.
                    if (isDir && mayHoldIncluded(rootRel))
                        copyDirIfAnything(in, src, childRel, host, childDst, meta, what);
                    continue;
                }
                if (excludes_ && excludes_->excluded(rootRel)) {
                    // fsutil's rule: an excluded directory is still walked when an exception
                    // ("!pattern") may re-include something below it; it exists only if it does.
                    if (isDir && excludes_->hasExclusions())
                        copyDirIfAnything(in, src, childRel, host, childDst, meta, what);
                    continue;
                }
                copyNode(in, src, childRel, host, childDst, meta, what);
            }
            if (!dstRel.empty() && !topContents)
                applyMeta(dstRel, srcHost, st, dst, meta);
            return;
        }
        clearNonDir(dst);
        if (S_ISREG(st.st_mode)) {
            std::error_code ec;
            fs::copy_file(srcHost, dst, fs::copy_options::overwrite_existing, ec);
            if (ec)
                throw Error(what + ": copying /" + srcRel + " to /" + dstRel + ": " + ec.message());
            result.bytes += static_cast<std::uint64_t>(st.st_size);
        } else if (S_ISLNK(st.st_mode)) {
            std::error_code ec;
            const fs::path target = fs::read_symlink(srcHost, ec);
            if (ec || ::symlink(target.c_str(), dst.c_str()) != 0)
                throw Error(sysError(what + ": symlink /" + dstRel));
        } else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
            if (::mknod(dst.c_str(), st.st_mode, st.st_rdev) != 0)
                return;
        } else {
            return; // sockets are not copied
        }
        ++result.entries;
        ++leavesCopied_;
        applyMeta(dstRel, srcHost, st, dst, meta);
    }

    // A source path relative to the source being copied (what --exclude and --parents patterns see).
    std::string relToCopyRoot(const std::string& srcRel) const
    {
        if (copyRoot_.empty())
            return srcRel;
        return srcRel.starts_with(copyRoot_ + "/") ? srcRel.substr(copyRoot_.size() + 1) : srcRel;
    }

    // Could an include pattern match something below this directory? Its components are compared
    // with the pattern's leading ones; "**" can match anything below.
    bool mayHoldIncluded(const std::string& dirRel) const
    {
        const auto dirParts = splitPath(dirRel);
        for (const std::string& pattern : includes_->patterns()) {
            if (pattern.starts_with("!"))
                continue;
            const auto patParts = splitPath(pattern);
            bool possible = true;
            for (std::size_t i = 0; i < dirParts.size() && possible; ++i) {
                if (i >= patParts.size())
                    possible = false;
                else if (patParts[i] == "**")
                    break;
                else
                    possible = ::fnmatch(patParts[i].c_str(), dirParts[i].c_str(), 0) == 0;
            }
            if (possible)
                return true;
        }
        return false;
    }

    // A directory left out by the patterns that may still hold something they take: copied as
    // usual, then removed again when nothing below it was (and it was not there before).
    void copyDirIfAnything(const FileOpInput& in, const TreeReader& src, const std::string& srcRel,
                         const fs::path& srcHost, const std::string& dstRel, const CopyMeta& meta,
                         const std::string& what)
    {
        struct stat before {};
        const bool existed = ::lstat((diff_ / dstRel).c_str(), &before) == 0 || target().find(dstRel).has_value();
        const std::uint64_t leaves = leavesCopied_;
        copyNode(in, src, srcRel, srcHost, dstRel, meta, what);
        if (leavesCopied_ == leaves && !existed) {
            std::error_code ec;
            fs::remove_all(diff_ / dstRel, ec);
        }
    }

    void copy(const FileActionCopy& a, const FileOpInput& in)
    {
        const std::string what = "copy " + a.src + " -> " + a.dest;
        // Include (COPY --parents) and exclude (--exclude) patterns, matched as patternmatcher does.
        std::optional<dockerfile::DockerIgnore> includes, excludes;
        try {
            if (!a.includePatterns.empty())
                includes = dockerfile::DockerIgnore::fromPatterns(a.includePatterns);
            if (!a.excludePatterns.empty())
                excludes = dockerfile::DockerIgnore::fromPatterns(a.excludePatterns);
        } catch (const Error& e) {
            throw Error(what + ": bad pattern: " + e.what());
        }
        includes_ = includes ? &*includes : nullptr;
        excludes_ = excludes ? &*excludes : nullptr;
        struct ResetPatterns {
            const dockerfile::DockerIgnore*& inc;
            const dockerfile::DockerIgnore*& exc;
            ~ResetPatterns() { inc = exc = nullptr; }
        } resetPatterns{includes_, excludes_};
        const TreeReader src(in.tree);
        const TreeReader tgt = target();
        CopyMeta meta;
        if (a.owner)
            meta.owner = resolveOwner(a.owner, tgt);
        meta.contextOwners = in.contextOwners;
        meta.mode = a.mode;
        meta.modeStr = a.modeStr;
        if (!a.modeStr.empty())
            applySymbolicMode(a.modeStr, 0644, false); // refuse a bad spec before anything is written
        const Owner dirOwner = meta.owner.value_or(Owner{});

        // Sources: the path, or the matches of its last component's pattern.
        std::vector<std::string> matches;
        const std::string srcClean = joinRel(splitPath(a.src), 99999);
        if (a.allowWildcard && hasWildcard(baseOf(srcClean))) {
            const std::string dir = src.resolve(parentOf(srcClean), true);
            const std::string pattern = baseOf(srcClean);
            for (const auto& [name, host] : src.list(dir))
                if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0 && !(excludes && excludes->excluded(name)))
                    matches.push_back(dir.empty() ? name : dir + "/" + name);
            if (matches.empty()) {
                if (a.allowEmptyWildcard)
                    return;
                throw Error(what + ": no source files were specified (" + a.src + " matches nothing)");
            }
        } else {
            matches.push_back(srcClean);
        }

        // The destination: a trailing slash (or "/.") names a directory.
        const bool destDirSyntax = a.dest.ends_with("/") || a.dest.ends_with("/.") || a.dest == ".";
        const std::string destClean = joinRel(splitPath(a.dest), 99999);
        std::string destRel = tgt.resolve(destClean, true);
        if (a.createDestPath) {
            const std::string ensure = destDirSyntax ? destRel : tgt.resolve(parentOf(destClean), true);
            if (!ensure.empty())
                ensureDir(ensure, 0755, dirOwner, true, what);
        } else {
            const std::string parent = tgt.resolve(parentOf(destClean), true);
            if (!parent.empty() && !tgt.find(parent))
                throw Error(what + ": destination directory /" + parent + " does not exist");
        }
        for (const std::string& m : matches) {
            const std::string srcRel = src.resolve(m, true);
            copyRoot_ = srcRel; // patterns are relative to the source being copied
            const auto srcHost = src.find(srcRel);
            if (!srcHost)
                throw Error(what + ": /" + m + ": not found");
            struct stat sst {};
            if (::lstat(srcHost->c_str(), &sst) != 0)
                throw Error(sysError(what + ": /" + m));
            const bool srcIsDir = S_ISDIR(sst.st_mode);
            if (a.attemptUnpackDockerCompatibility && S_ISREG(sst.st_mode) && isArchive(*srcHost)) {
                // ADD of a local archive: unpacked into the destination directory (Docker's rule).
                if (!destRel.empty())
                    ensureDir(destRel, 0755, dirOwner, true, what);
                LayerApplyOptions lo;
                lo.verifyDigest = false;
                const LayerApplyResult r = applyLayer(*srcHost, "", oci::Digest(), diff_ / destRel, lo);
                result.bytes += r.bytes;
                result.entries += r.entries;
                for (const auto& [path, owner] : r.unappliedOwners)
                    result.owners.byPath[destRel.empty() ? path : destRel + "/" + path] = owner;
                continue;
            }
            std::string dst = destRel;
            const auto destHost = target().find(tgt.resolve(destClean, true));
            struct stat dstSt {};
            const bool destIsDir = destHost && ::stat(destHost->c_str(), &dstSt) == 0 && S_ISDIR(dstSt.st_mode);
            if ((!a.dirCopyContents && srcIsDir && destHost) || (!srcIsDir && destIsDir) ||
                (!srcIsDir && destDirSyntax))
                dst = dst.empty() ? baseOf(m) : dst + "/" + baseOf(m);
            const std::string parentDir = srcIsDir && !a.dirCopyContents ? dst : parentOf(dst);
            if (!parentDir.empty())
                ensureDir(parentDir, 0755, dirOwner, true, what);
            copyNode(in, src, srcRel, *srcHost, dst, meta, what, srcIsDir && a.dirCopyContents);
        }
    }

    void mkdir(const FileActionMkDir& a)
    {
        const std::string what = "mkdir " + a.path;
        const TreeReader tgt = target();
        const Owner owner = resolveOwner(a.owner, tgt);
        const std::string rel = tgt.resolve(joinRel(splitPath(a.path), 99999), true);
        if (rel.empty())
            return;
        if (const auto host = tgt.find(rel)) {
            struct stat st {};
            if (::stat(host->c_str(), &st) == 0 && S_ISDIR(st.st_mode))
                return; // exists: left as it is
            throw Error(what + ": /" + rel + " exists and is not a directory");
        }
        if (!a.makeParents && !parentOf(rel).empty() && !tgt.find(parentOf(rel)))
            throw Error(what + ": parent directory does not exist");
        if (!parentOf(rel).empty())
            ensureDir(parentOf(rel), static_cast<mode_t>(a.mode) & 0777, owner, a.makeParents, what);
        ensureDir(rel, static_cast<mode_t>(a.mode) & 0777, owner, true, what);
    }

    void mkfile(const FileActionMkFile& a)
    {
        const std::string what = "mkfile " + a.path;
        const TreeReader tgt = target();
        const Owner owner = resolveOwner(a.owner, tgt);
        const std::string rel = tgt.resolve(joinRel(splitPath(a.path), 99999), false);
        if (rel.empty())
            throw Error(what + ": not a file path");
        if (!parentOf(rel).empty()) {
            if (!tgt.find(parentOf(rel)))
                throw Error(what + ": parent directory does not exist");
            ensureDir(parentOf(rel), 0755, Owner{}, false, what);
        }
        const fs::path host = diff_ / rel;
        clearNonDir(host);
        {
            std::ofstream out(host, std::ios::binary | std::ios::trunc);
            out << a.data;
            if (!out)
                throw Error(what + ": cannot write");
        }
        setOwner(rel, host, owner);
        ::chmod(host.c_str(), static_cast<mode_t>(a.mode) & 07777);
        result.bytes += a.data.size();
        ++result.entries;
    }

private:
    Snapshot base_;
    fs::path diff_;
    const dockerfile::DockerIgnore* includes_ = nullptr; // COPY --parents patterns of the copy running
    const dockerfile::DockerIgnore* excludes_ = nullptr; // its --exclude patterns
    std::string copyRoot_;                               // the source they are relative to
    std::uint64_t leavesCopied_ = 0;                     // files, links and nodes copied so far
};

} // namespace

FileOpResult runFileOp(const FileOp& op, const std::vector<FileOpInput>& inputs, const fs::path& diffDir)
{
    if (op.actions.empty())
        throw Error("file op without actions");
    if (inputs.size() < static_cast<std::size_t>(op.numInputs))
        throw Error("file op: " + std::to_string(op.numInputs) + " inputs expected, " +
                    std::to_string(inputs.size()) + " given");
    std::error_code ec;
    fs::create_directories(diffDir, ec);
    if (ec)
        throw Error(diffDir.string() + ": " + ec.message());
    // The actions of Dockerfile ops form one chain: action i works on the result of action i-1.
    const FileAction& first = op.actions.front();
    Snapshot base;
    if (first.input >= 0) {
        if (first.input >= op.numInputs)
            throw Error("file op: the first action reads another action's result");
        base = inputs[static_cast<std::size_t>(first.input)].tree;
    }
    FileOpRunner runner(base, diffDir);
    for (std::size_t i = 0; i < op.actions.size(); ++i) {
        const FileAction& a = op.actions[i];
        if (i > 0 && a.input != op.numInputs + static_cast<std::int64_t>(i) - 1)
            throw Error("file op: action " + std::to_string(i) + " does not continue the previous one");
        if (const auto* c = std::get_if<FileActionCopy>(&a.action)) {
            if (a.secondaryInput < 0 || a.secondaryInput >= op.numInputs)
                throw Error("copy " + c->src + ": its source is not an op input");
            runner.copy(*c, inputs[static_cast<std::size_t>(a.secondaryInput)]);
        } else if (const auto* d = std::get_if<FileActionMkDir>(&a.action)) {
            runner.mkdir(*d);
        } else if (const auto* f = std::get_if<FileActionMkFile>(&a.action)) {
            runner.mkfile(*f);
        } else {
            throw Error("file op: rm and symlink actions are not supported yet");
        }
    }
    return std::move(runner.result);
}

} // namespace cachescope::exec
