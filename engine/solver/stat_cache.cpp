#include "solver/stat_cache.h"

#include "base/files.h"

#include <cstring>
#include <system_error>

namespace cachescope::solver {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMagic = "cachescope-statcache-v1\n";

template <typename T>
void append(std::string& out, T v)
{
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
}

struct Reader {
    std::string_view in;
    bool ok = true;
    template <typename T>
    T get()
    {
        T v{};
        if (in.size() < sizeof(T)) {
            ok = false;
            return v;
        }
        std::memcpy(&v, in.data(), sizeof(T));
        in.remove_prefix(sizeof(T));
        return v;
    }
    std::string_view bytes(std::size_t n)
    {
        if (in.size() < n) {
            ok = false;
            return {};
        }
        std::string_view v = in.substr(0, n);
        in.remove_prefix(n);
        return v;
    }
};

} // namespace

std::uint64_t fnv1a64(std::string_view bytes)
{
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

StatCache::StatCache(fs::path file) : file_(std::move(file))
{
    std::string data;
    try {
        if (!fs::exists(file_))
            return;
        data = readFile(file_);
    } catch (const std::exception&) {
        return; // a cache: unreadable means empty
    }
    if (!std::string_view(data).starts_with(kMagic))
        return;
    Reader r{std::string_view(data).substr(kMagic.size())};
    const auto count = r.get<std::uint64_t>();
    entries_.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, 10'000'000)));
    for (std::uint64_t i = 0; i < count && r.ok; ++i) {
        const auto len = r.get<std::uint32_t>();
        const std::string path(r.bytes(len));
        Entry e;
        e.key.dev = r.get<std::uint64_t>();
        e.key.ino = r.get<std::uint64_t>();
        e.key.size = r.get<std::int64_t>();
        e.key.mtimeNs = r.get<std::int64_t>();
        e.key.ctimeNs = r.get<std::int64_t>();
        e.key.mode = r.get<std::uint32_t>();
        e.key.headerHash = r.get<std::uint64_t>();
        const auto dlen = r.get<std::uint8_t>();
        const std::string_view digest = r.bytes(dlen);
        if (!r.ok)
            break;
        auto d = oci::Digest::tryParse(digest);
        if (!d)
            break;
        e.digest = *d;
        entries_.insert_or_assign(path, std::move(e));
    }
    if (!r.ok)
        entries_.clear(); // truncated: trust nothing
}

std::optional<oci::Digest> StatCache::lookup(const std::string& path, const StatKey& key) const
{
    const auto it = entries_.find(path);
    if (it == entries_.end() || !(it->second.key == key))
        return std::nullopt;
    return it->second.digest;
}

void StatCache::put(const std::string& path, const StatKey& key, const oci::Digest& digest)
{
    entries_.insert_or_assign(path, Entry{key, digest});
}

void StatCache::save(std::int64_t trustBeforeNs) const
{
    if (file_.empty())
        return;
    std::string out(kMagic);
    const std::size_t countAt = out.size();
    append<std::uint64_t>(out, 0);
    std::uint64_t count = 0;
    for (const auto& [path, e] : entries_) {
        if (e.key.ctimeNs >= trustBeforeNs)
            continue;
        append<std::uint32_t>(out, static_cast<std::uint32_t>(path.size()));
        out += path;
        append(out, e.key.dev);
        append(out, e.key.ino);
        append(out, e.key.size);
        append(out, e.key.mtimeNs);
        append(out, e.key.ctimeNs);
        append(out, e.key.mode);
        append(out, e.key.headerHash);
        const std::string d = e.digest.str();
        append<std::uint8_t>(out, static_cast<std::uint8_t>(d.size()));
        out += d;
        ++count;
    }
    std::memcpy(out.data() + countAt, &count, sizeof count);
    writeFileAtomic(file_, out);
}

fs::path StatCache::defaultFile(const fs::path& root, const fs::path& dataDir)
{
    std::error_code ec;
    fs::path abs = fs::weakly_canonical(fs::absolute(root), ec);
    if (ec)
        abs = fs::absolute(root);
    return dataDir / "statcache" / (std::string(oci::Digest::of(abs.string()).hex()) + ".bin");
}

} // namespace cachescope::solver
