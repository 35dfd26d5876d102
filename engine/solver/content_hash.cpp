#include "solver/content_hash.h"

#include "base/error.h"
#include "solver/go_path.h"
#include "solver/path_patterns.h"
#include "solver/stat_cache.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>

namespace cachescope::solver {

namespace fs = std::filesystem;

std::string tarsumHeader(const FileHeader& h)
{
    std::string out;
    out.reserve(96 + h.linkname.size());
    out += "name";
    out += "mode" + std::to_string(h.mode);
    out += "uid" + std::to_string(h.uid);
    out += "gid" + std::to_string(h.gid);
    out += "size" + std::to_string(h.size);
    out += "typeflag";
    out += h.typeflag;
    out += "linkname" + h.linkname;
    out += "uname";
    out += "gname";
    out += "devmajor" + std::to_string(h.devmajor);
    out += "devminor" + std::to_string(h.devminor);
    for (const auto& [k, v] : h.xattrs) {
        out += k;
        out += v;
    }
    return out;
}

bool keepXattr(const std::string& key)
{
    if (key.starts_with("security."))
        return key == "security.capability";
    return !key.starts_with("system.");
}

namespace {

enum class RecordType { File, Symlink, DirHeader, Dir };

struct Record {
    RecordType type = RecordType::File;
    std::string linkname; // symlink target
    oci::Digest digest;   // empty until computed
    std::string header;   // tarsum header bytes (files and symlinks until hashed)
    std::string fsPath;   // regular file whose bytes follow the header
    bool hasContent = false;
    std::uint32_t mode = 0; // permission bits
    std::int64_t size = 0;
    StatKey stat;           // regular files: the stat cache key
};

// BuildKit's radix-tree keys: "/" becomes NUL, so "/a/b" is "\0a\0b"; a directory also has
// "<key>\0" for its own header. std::string compares bytes unsigned, the radix tree's order.
std::string toKey(std::string_view path)
{
    std::string k(path);
    std::replace(k.begin(), k.end(), '/', '\0');
    return k;
}

std::string toPath(std::string_view key)
{
    std::string p(key);
    std::replace(p.begin(), p.end(), '\0', '/');
    return p;
}

// "/" and "" both mean the root, whose key is "".
std::string keyPath(std::string_view p)
{
    std::string clean = goPathJoin("/", p);
    return clean == "/" ? std::string() : clean;
}

std::vector<std::pair<std::string, std::string>> readXattrs(const std::string& path)
{
    std::vector<std::pair<std::string, std::string>> out;
    ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
    if (size <= 0)
        return out;
    std::string names(static_cast<std::size_t>(size), '\0');
    size = ::llistxattr(path.c_str(), names.data(), names.size());
    if (size <= 0)
        return out;
    names.resize(static_cast<std::size_t>(size));
    std::size_t i = 0;
    while (i < names.size()) {
        std::string key(names.c_str() + i);
        i += key.size() + 1;
        if (key.empty() || !keepXattr(key))
            continue;
        ssize_t vs = ::lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
        if (vs < 0)
            continue;
        std::string value(static_cast<std::size_t>(vs), '\0');
        vs = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
        if (vs < 0)
            continue;
        value.resize(static_cast<std::size_t>(vs));
        out.emplace_back(std::move(key), std::move(value));
    }
    std::sort(out.begin(), out.end());
    return out;
}

FileHeader headerFromStat(const struct stat& st, const std::string& fsPath, ScanMode mode, std::string linkname)
{
    FileHeader h;
    h.mode = st.st_mode & 07777;
    h.uid = mode == ScanMode::BuildContext ? 0 : st.st_uid;
    h.gid = mode == ScanMode::BuildContext ? 0 : st.st_gid;
    if (S_ISREG(st.st_mode)) {
        h.typeflag = '0';
        h.size = st.st_size;
    } else if (S_ISLNK(st.st_mode)) {
        h.typeflag = '2';
        h.linkname = std::move(linkname);
    } else if (S_ISDIR(st.st_mode)) {
        h.typeflag = '5';
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        h.typeflag = S_ISCHR(st.st_mode) ? '3' : '4';
        h.devmajor = major(st.st_rdev);
        h.devminor = minor(st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
        h.typeflag = '6';
    }
    h.xattrs = readXattrs(fsPath);
    return h;
}

// Streams header + file bytes through SHA-256 in fixed-size chunks.
oci::Digest hashFile(const Record& r, std::vector<char>& buffer)
{
    oci::Sha256 h;
    h.update(r.header);
    int fd = ::open(r.fsPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw Error(r.fsPath + ": cannot open: " + std::strerror(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            ::close(fd);
            throw Error(r.fsPath + ": read failed: " + std::strerror(e));
        }
        if (n == 0)
            break;
        h.update(buffer.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return h.finish();
}

} // namespace

struct ContentTree::Impl {
    ScanOptions options;
    std::string rootFs; // for messages
    std::optional<StatCache> statCache;
    std::int64_t scanStartNs = 0;
    std::size_t statHits = 0;
    std::atomic<std::size_t> hashed{0};
    std::map<std::string, Record> records;
    std::map<std::string, std::string> plaintexts; // digest string -> bytes
    std::mutex plaintextMutex;

    void remember(const oci::Digest& d, std::string bytes)
    {
        if (!options.keepPlaintexts)
            return;
        std::lock_guard lock(plaintextMutex);
        plaintexts.emplace(d.str(), std::move(bytes));
    }

    using Records = std::map<std::string, Record>;

    void insertEntry(Records& into, const std::string& rel, const std::string& fsPath, const struct stat& st)
    {
        std::string linkname;
        if (S_ISLNK(st.st_mode)) {
            std::string buf(static_cast<std::size_t>(std::max<off_t>(st.st_size, 0)) + 256, '\0');
            ssize_t n = ::readlink(fsPath.c_str(), buf.data(), buf.size());
            if (n < 0)
                throw Error(fsPath + ": cannot read link: " + std::strerror(errno));
            buf.resize(static_cast<std::size_t>(n));
            linkname = std::move(buf);
        }
        const FileHeader header = headerFromStat(st, fsPath, options.mode, linkname);
        const std::string key = toKey(rel);
        Record r;
        r.header = tarsumHeader(header);
        r.mode = header.mode;
        r.size = header.size;
        if (S_ISDIR(st.st_mode)) {
            r.type = RecordType::DirHeader;
            r.digest = oci::Digest::of(r.header);
            remember(r.digest, r.header);
            into[key] = Record{RecordType::Dir, {}, {}, {}, {}, false, r.mode, 0, {}};
            into[key + '\0'] = std::move(r);
            return;
        }
        if (S_ISLNK(st.st_mode)) {
            r.type = RecordType::Symlink;
            r.linkname = linkname;
        }
        if (S_ISREG(st.st_mode)) {
            r.hasContent = true;
            r.fsPath = fsPath;
            r.stat = StatKey{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                             static_cast<std::int64_t>(st.st_size),
                             static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                             static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec,
                             static_cast<std::uint32_t>(st.st_mode), fnv1a64(r.header)};
        } else {
            r.digest = oci::Digest::of(r.header);
            remember(r.digest, r.header);
        }
        into[key] = std::move(r);
    }

    // Lists one directory into `into`; subdirectories are walked recursively, or handed to `subdirs`
    // when it is given (the top level, walked in parallel).
    void walk(Records& into, const std::string& dirFs, const std::string& rel,
              std::vector<std::pair<std::string, std::string>>* subdirs = nullptr)
    {
        throwIfCancelled();
        DIR* dir = ::opendir(dirFs.c_str());
        if (!dir)
            throw Error(dirFs + ": cannot list directory: " + std::strerror(errno));
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(dir)) {
            std::string name = e->d_name;
            if (name != "." && name != "..")
                names.push_back(std::move(name));
        }
        ::closedir(dir);
        for (const auto& name : names) {
            const std::string childFs = dirFs + "/" + name;
            const std::string childRel = rel + "/" + name;
            struct stat st {};
            if (::lstat(childFs.c_str(), &st) != 0)
                throw Error(childFs + ": cannot stat: " + std::strerror(errno));
            if (S_ISSOCK(st.st_mode))
                continue; // not transferable, never part of a context or layer
            const bool isDir = S_ISDIR(st.st_mode);
            if (options.excluded && options.excluded(childRel.substr(1), isDir))
                continue;
            insertEntry(into, childRel, childFs, st);
            if (isDir) {
                if (subdirs)
                    subdirs->emplace_back(childFs, childRel);
                else
                    walk(into, childFs, childRel);
            }
        }
    }

    void throwIfCancelled() const
    {
        if (options.cancel.stop_requested())
            throw OperationCancelled("scan of " + rootFs + " cancelled");
    }

    // Hashes every pending regular file whose key is `key` or lies below it, on a few threads.
    void hashPending(const std::string& key)
    {
        std::vector<Record*> pending;
        const std::string below = key + '\0';
        for (auto it = records.lower_bound(key); it != records.end(); ++it) {
            if (it->first != key && !it->first.starts_with(below)) {
                if (!key.empty())
                    break;
            }
            if (it->second.hasContent && it->second.digest.empty()) {
                Record& r = it->second;
                if (statCache) {
                    if (auto d = statCache->lookup(r.fsPath, r.stat)) {
                        r.digest = *d;
                        remember(r.digest, r.header);
                        ++statHits;
                        continue;
                    }
                }
                pending.push_back(&r);
            }
        }
        if (pending.empty())
            return;
        unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
        threads = static_cast<unsigned>(std::min<std::size_t>(threads, pending.size()));
        std::atomic<std::size_t> next{0};
        std::mutex errorMutex;
        std::string error;
        const auto worker = [&] {
            std::vector<char> buffer(1 << 20);
            for (;;) {
                std::size_t i = next.fetch_add(1);
                if (i >= pending.size() || options.cancel.stop_requested())
                    return;
                try {
                    Record& r = *pending[i];
                    r.digest = hashFile(r, buffer);
                    remember(r.digest, r.header);
                    hashed.fetch_add(1, std::memory_order_relaxed);
                } catch (const std::exception& e) {
                    std::lock_guard lock(errorMutex);
                    if (error.empty())
                        error = e.what();
                    next = pending.size();
                }
            }
        };
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t)
            pool.emplace_back(worker);
        worker();
        for (auto& t : pool)
            t.join();
        throwIfCancelled();
        if (!error.empty())
            throw Error(error);
        if (statCache)
            for (const Record* r : pending)
                statCache->put(r->fsPath, r->stat, r->digest);
    }

    Record* find(const std::string& key)
    {
        auto it = records.find(key);
        return it == records.end() ? nullptr : &it->second;
    }

    // Resolves symlinks in the parent components of a key (getFollowLinks): the last
    // component itself is returned as is.
    std::string followParents(const std::string& path, int& linksWalked)
    {
        const std::string key = toKey(path);
        if (find(key) || path.empty())
            return path;
        const std::string dir = goPathDir(path) == "/" ? std::string() : goPathDir(path);
        const std::string base = goPathBase(path);
        const std::string resolvedDir = followParents(dir, linksWalked);
        const Record* parent = find(toKey(resolvedDir));
        if (parent && parent->type == RecordType::Symlink) {
            if (++linksWalked > 255)
                throw Error("too many symlinks resolving " + path);
            std::string target = parent->linkname.starts_with('/')
                                     ? goPathClean(parent->linkname)
                                     : goPathJoin(goPathDir(resolvedDir.empty() ? "/" : resolvedDir), parent->linkname);
            target = keyPath(target);
            return followParents(target + "/" + base, linksWalked);
        }
        return resolvedDir + "/" + base;
    }

    const oci::Digest& digestOf(const std::string& key)
    {
        Record& r = records.at(key);
        if (!r.digest.empty())
            return r.digest;
        if (r.type == RecordType::Dir) {
            // "\0" + header digest, then "\0<name>" + digest for each direct child.
            std::string plain;
            const std::string prefix = key + '\0';
            auto it = records.lower_bound(prefix);
            while (it != records.end() && it->first.starts_with(prefix)) {
                const std::string subKey = it->first;
                plain.append(subKey, key.size());
                const Record& sub = it->second;
                plain += digestOf(subKey).str();
                ++it;
                if (sub.type == RecordType::Dir) {
                    const std::string skip = subKey + '\0';
                    while (it != records.end() && it->first.starts_with(skip))
                        ++it;
                }
            }
            r.digest = oci::Digest::of(plain);
            remember(r.digest, std::move(plain));
            return r.digest;
        }
        hashPending(key);
        return r.digest;
    }

    // checksumFollow: the digest of a path, following symlinks in its components and, when
    // `follow`, in its last component too.
    oci::Digest checksumFollow(std::string path, bool follow)
    {
        int linksWalked = 0;
        for (;;) {
            std::string resolved = followParents(keyPath(path), linksWalked);
            const std::string key = toKey(resolved);
            Record* r = find(key);
            if (!r)
                throw Error("\"" + (path.empty() ? std::string("/") : path) + "\": not found");
            if (r->type == RecordType::Symlink && follow) {
                if (++linksWalked > 255)
                    throw Error("too many symlinks: " + path);
                path = r->linkname.starts_with('/') ? r->linkname
                                                    : goPathJoin(goPathDir(resolved.empty() ? "/" : resolved), r->linkname);
                continue;
            }
            hashPending(key); // the whole subtree at once, in parallel
            return digestOf(key);
        }
    }

    struct Included {
        std::string path;
        oci::Digest digest;
        RecordType type = RecordType::File;
        bool included = false;
    };

    oci::Digest checksumWithPatterns(const ContentSelector& sel)
    {
        const bool endsInSep = !sel.path.empty() && sel.path.back() == '/';
        const std::string p = keyPath(sel.path);
        const PathPatterns include(sel.includePatterns);
        const PathPatterns exclude(sel.excludePatterns);
        hashPending("");

        std::string origPrefix, resolvedPrefix;
        std::map<std::string, Record>::iterator it;
        bool keyOk = false;
        int linksWalked = 0;
        if (sel.wildcard) {
            // Non-wildcard leading components, symlinks resolved (wildcardPrefix).
            std::vector<std::string> lead;
            std::string rest = p;
            std::string d1 = "/";
            {
                std::vector<std::string> parts;
                std::size_t i = 1;
                while (i <= p.size()) {
                    std::size_t j = p.find('/', i);
                    if (j == std::string::npos)
                        j = p.size();
                    parts.push_back(p.substr(i, j - i));
                    i = j + 1;
                }
                std::string acc;
                for (const auto& part : parts) {
                    if (containsWildcards(part))
                        break;
                    acc += "/" + part;
                }
                d1 = acc.empty() ? "/" : acc;
            }
            if (d1 != "/") {
                std::string resolved = followParents(keyPath(d1), linksWalked);
                const Record* r = find(toKey(resolved));
                while (r && r->type == RecordType::Symlink) {
                    if (++linksWalked > 255)
                        throw Error("too many links: " + sel.path);
                    resolved = keyPath(r->linkname.starts_with('/') ? goPathClean(r->linkname)
                                                                   : goPathJoin(goPathDir(resolved), r->linkname));
                    r = find(toKey(resolved));
                }
                origPrefix = d1;
                keyOk = r != nullptr;
                resolvedPrefix = resolved;
                it = keyOk ? records.lower_bound(toKey(resolved) + '\0') : records.end();
            } else {
                it = records.begin();
                keyOk = it != records.end();
            }
        } else {
            origPrefix = p;
            std::string resolved = followParents(p, linksWalked);
            keyOk = find(toKey(resolved)) != nullptr;
            resolvedPrefix = resolved;
            if (!origPrefix.empty())
                it = keyOk ? records.lower_bound(toKey(resolved) + '\0') : records.end();
            else
                it = records.begin();
            keyOk = keyOk || origPrefix.empty();
        }

        std::vector<Included> includedList;
        std::vector<std::size_t> parentHeaders; // indexes into `seen`
        std::vector<Included> seen;
        std::string lastMatchedDir;
        bool haveLastMatched = false;
        for (; keyOk && it != records.end(); ++it) {
            std::string fn = toPath(it->first);
            if (!resolvedPrefix.empty() && fn.starts_with(resolvedPrefix))
                fn = origPrefix + fn.substr(resolvedPrefix.size());
            while (!parentHeaders.empty() && !fn.starts_with(seen[parentHeaders.back()].path + "/"))
                parentHeaders.pop_back();

            bool dirHeader = false;
            if (!it->first.empty() && it->first.back() == '\0') {
                dirHeader = true;
                fn.pop_back();
                if (fn == p && endsInSep)
                    continue; // a source dir written with a trailing "/" does not include its own header
            }
            std::string candidate;
            if (sel.wildcard) {
                if (!p.empty() && (!haveLastMatched || !fn.starts_with(lastMatchedDir + "/"))) {
                    if (!goPathMatch(p, fn))
                        continue;
                    lastMatchedDir = fn;
                    haveLastMatched = true;
                }
                candidate = fn + "/";
                if (candidate.starts_with(lastMatchedDir + "/"))
                    candidate = candidate.substr(lastMatchedDir.size() + 1);
            } else {
                if (!(fn + "/").starts_with(p + "/"))
                    break;
                candidate = (fn + "/").substr(p.size() + 1);
            }
            if (!candidate.empty() && candidate.back() == '/')
                candidate.pop_back();
            bool shouldInclude = true;
            if (!include.empty() && !include.matches(candidate))
                shouldInclude = false;
            if (shouldInclude && !exclude.empty() && exclude.matches(candidate))
                shouldInclude = false;
            if (!shouldInclude && !dirHeader)
                continue;

            const Record& r = it->second;
            if (r.type == RecordType::Dir)
                shouldInclude = false; // only headers and files: exclusions may apply inside
            Included entry{fn, r.type == RecordType::Dir ? oci::Digest() : digestOf(it->first), r.type, false};
            seen.push_back(entry);
            const std::size_t idx = seen.size() - 1;
            if (shouldInclude) {
                for (std::size_t ph : parentHeaders) {
                    if (!seen[ph].included) {
                        seen[ph].included = true;
                        includedList.push_back(seen[ph]);
                    }
                }
                seen[idx].included = true;
                includedList.push_back(seen[idx]);
            }
            if (r.type == RecordType::DirHeader)
                parentHeaders.push_back(idx);
        }

        if (sel.followLinks) {
            for (auto& inc : includedList) {
                if (inc.type == RecordType::Symlink)
                    inc.digest = checksumFollow(inc.path, true);
            }
        }
        if (includedList.empty())
            return oci::Digest::of("");
        if (includedList.size() == 1 && goPathBase(p.empty() ? "/" : p) == goPathBase(includedList[0].path))
            return includedList[0].digest;
        std::string plain;
        for (std::size_t i = 0; i < includedList.size(); ++i) {
            if (i)
                plain += '\0';
            plain += goPathBase(includedList[i].path);
            plain += includedList[i].digest.str();
        }
        oci::Digest d = oci::Digest::of(plain);
        remember(d, std::move(plain));
        return d;
    }
};

ContentTree::ContentTree(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ContentTree::ContentTree(ContentTree&&) noexcept = default;
ContentTree& ContentTree::operator=(ContentTree&&) noexcept = default;
ContentTree::~ContentTree() = default;

ContentTree ContentTree::scan(const fs::path& root, ScanOptions options)
{
    auto impl = std::make_unique<Impl>();
    impl->options = std::move(options);
    const std::string rootPath = root.string();
    impl->rootFs = rootPath;
    struct stat st {};
    if (::stat(rootPath.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(rootPath + ": not a directory");
    {
        timespec now {};
        ::clock_gettime(CLOCK_REALTIME, &now);
        impl->scanStartNs = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
    }
    if (!impl->options.statCacheFile.empty())
        impl->statCache.emplace(impl->options.statCacheFile);
    impl->records[""] = Record{RecordType::Dir, {}, {}, {}, {}, false, st.st_mode & 07777, 0, {}};
    Record header;
    header.type = RecordType::DirHeader;
    if (impl->options.mode == ScanMode::BuildContext) {
        // The transfer never reports the context root: BuildKit fakes its header as sha256("").
        header.digest = oci::Digest::of("");
        impl->remember(header.digest, "");
    } else {
        header.header = tarsumHeader(headerFromStat(st, rootPath, impl->options.mode, {}));
        header.digest = oci::Digest::of(header.header);
        impl->remember(header.digest, header.header);
    }
    impl->records[std::string(1, '\0')] = std::move(header);
    // The metadata walk is syscall-bound: the root's subdirectories are walked on the hashing threads,
    // each into its own map, then merged (keys are disjoint).
    std::vector<std::pair<std::string, std::string>> subdirs;
    impl->walk(impl->records, rootPath, "", &subdirs);
    unsigned threads = impl->options.threads ? impl->options.threads : std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, subdirs.size()));
    std::vector<Impl::Records> parts(std::max(1u, threads));
    std::atomic<std::size_t> next{0};
    std::mutex errorMutex;
    std::string error;
    const auto worker = [&](unsigned t) {
        for (;;) {
            const std::size_t i = next.fetch_add(1);
            if (i >= subdirs.size())
                return;
            try {
                impl->walk(parts[t], subdirs[i].first, subdirs[i].second);
            } catch (const std::exception& e) {
                std::lock_guard lock(errorMutex);
                if (error.empty())
                    error = e.what();
                next = subdirs.size();
            }
        }
    };
    {
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads; ++t)
            pool.emplace_back(worker, t);
        worker(0);
        for (auto& t : pool)
            t.join();
    }
    impl->throwIfCancelled();
    if (!error.empty())
        throw Error(error);
    for (auto& part : parts)
        impl->records.merge(part);
    return ContentTree(std::move(impl));
}

oci::Digest ContentTree::checksum(const ContentSelector& sel)
{
    if (!sel.wildcard && sel.includePatterns.empty() && sel.excludePatterns.empty())
        return impl_->checksumFollow(sel.path, sel.followLinks);
    return impl_->checksumWithPatterns(sel);
}

ContentKey ContentTree::contentKey(const std::vector<ContentSelector>& selectors)
{
    ContentKey key;
    key.selectors = selectors;
    if (key.selectors.empty())
        key.selectors.push_back(ContentSelector::of("/"));
    for (const auto& s : key.selectors)
        key.checksums.push_back(checksum(s));
    key.key = contentKeyDigest(key.checksums);
    return key;
}

std::optional<std::string> ContentTree::plaintext(const oci::Digest& digest) const
{
    auto it = impl_->plaintexts.find(digest.str());
    if (it == impl_->plaintexts.end())
        return std::nullopt;
    return it->second;
}

std::size_t ContentTree::entryCount() const
{
    return impl_->records.size();
}

std::vector<TreeEntry> ContentTree::entries(const ContentSelector& sel)
{
    Impl& t = *impl_;
    const std::string p = keyPath(sel.path);
    // The part before the first wildcard names the subtree; patterns filter inside it.
    std::string prefix = p;
    if (sel.wildcard) {
        std::string acc;
        std::size_t i = 1;
        while (i <= p.size()) {
            std::size_t j = p.find('/', i);
            if (j == std::string::npos)
                j = p.size();
            const std::string part = p.substr(i, j - i);
            if (containsWildcards(part))
                break;
            acc += "/" + part;
            i = j + 1;
        }
        prefix = acc;
    }
    int linksWalked = 0;
    std::string resolved = prefix.empty() ? std::string() : t.followParents(prefix, linksWalked);
    {
        const Record* r = t.find(toKey(resolved));
        while (r && r->type == RecordType::Symlink && (sel.followLinks || sel.wildcard || resolved != p)) {
            if (++linksWalked > 255)
                throw Error("too many symlinks: " + sel.path);
            resolved = keyPath(r->linkname.starts_with('/') ? goPathClean(r->linkname)
                                                           : goPathJoin(goPathDir(resolved.empty() ? "/" : resolved), r->linkname));
            r = t.find(toKey(resolved));
        }
        if (!r)
            return {};
    }
    const PathPatterns include(sel.includePatterns);
    const PathPatterns exclude(sel.excludePatterns);
    t.hashPending(toKey(resolved));
    std::vector<TreeEntry> out;
    const std::string key = toKey(resolved);
    std::string matchedDir;
    for (auto it = t.records.lower_bound(key); it != t.records.end(); ++it) {
        const std::string& k = it->first;
        if (k != key && !k.starts_with(key + '\0'))
            break;
        const Record& r = it->second;
        if (r.type == RecordType::Dir)
            continue; // its header entry ("<key>\0") stands for it
        std::string fn = toPath(k);
        if (r.type == RecordType::DirHeader)
            fn.pop_back();
        if (fn.empty())
            continue; // the context root itself
        // Shown under the name the selector used, not the symlink-resolved one.
        if (!resolved.empty() && fn.starts_with(resolved))
            fn = prefix + fn.substr(resolved.size());
        if (sel.wildcard) {
            if (matchedDir.empty() || !fn.starts_with(matchedDir + "/")) {
                if (!goPathMatch(p, fn))
                    continue;
                matchedDir = fn;
            }
        }
        const std::string base = sel.wildcard ? (fn == matchedDir ? std::string() : fn.substr(matchedDir.size() + 1))
                                              : (fn.size() > prefix.size() ? fn.substr(prefix.size() + 1) : std::string());
        if (!base.empty()) {
            if (!include.empty() && !include.matches(base))
                continue;
            if (!exclude.empty() && exclude.matches(base))
                continue;
        }
        TreeEntry e;
        e.path = fn.substr(1);
        e.mode = r.mode;
        e.size = r.size;
        e.linkname = r.linkname;
        e.typeflag = r.type == RecordType::DirHeader ? '5' : r.type == RecordType::Symlink ? '2' : r.hasContent ? '0' : '?';
        if (r.type != RecordType::DirHeader)
            e.digest = t.digestOf(k);
        out.push_back(std::move(e));
    }
    return out;
}

oci::Digest ContentTree::checksumWithMode(const std::string& relPath, std::uint32_t mode)
{
    const Record* r = impl_->find(toKey(keyPath(relPath)));
    if (!r || !r->hasContent)
        throw Error(relPath + ": not a regular file in the tree");
    struct stat st {};
    if (::lstat(r->fsPath.c_str(), &st) != 0)
        throw Error(r->fsPath + ": cannot stat: " + std::strerror(errno));
    FileHeader h = headerFromStat(st, r->fsPath, impl_->options.mode, {});
    h.mode = mode;
    Record tmp = *r;
    tmp.header = tarsumHeader(h);
    std::vector<char> buffer(1 << 16);
    return hashFile(tmp, buffer);
}

std::size_t ContentTree::statCacheHits() const
{
    return impl_->statHits;
}

std::size_t ContentTree::filesHashed() const
{
    return impl_->hashed.load();
}

void ContentTree::saveStatCache()
{
    if (!impl_->statCache)
        return;
    // Nothing new: every entry was served from the cache and the cache holds nothing else.
    if (impl_->hashed.load() == 0 && impl_->statHits == impl_->statCache->size())
        return;
    // Only files of this tree: entries of removed files drop out.
    StatCache fresh(impl_->options.statCacheFile, StatCache::Empty{});
    for (const auto& [key, r] : impl_->records) {
        if (!r.hasContent)
            continue;
        if (!r.digest.empty())
            fresh.put(r.fsPath, r.stat, r.digest);
        else if (auto d = impl_->statCache->lookup(r.fsPath, r.stat))
            fresh.put(r.fsPath, r.stat, *d);
    }
    fresh.save(impl_->scanStartNs - impl_->options.racyWindowNs);
}

} // namespace cachescope::solver
