#include "solver/context_history.h"

#include "base/error.h"
#include "base/files.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <system_error>

namespace cachescope::solver {

namespace fs = std::filesystem;

namespace {

std::string joined(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v)
        out += (out.empty() ? "" : ",") + s;
    return out;
}

std::string typeName(char typeflag)
{
    switch (typeflag) {
    case '0':
        return "file";
    case '2':
        return "symlink";
    case '5':
        return "dir";
    default:
        return "other";
    }
}

std::string octal(std::uint32_t mode)
{
    char b[16];
    std::snprintf(b, sizeof b, "%04o", mode);
    return b;
}

fs::path canonicalOrAbsolute(const fs::path& p)
{
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::absolute(p), ec);
    return ec ? fs::absolute(p) : c;
}

} // namespace

std::string selectorText(const ContentSelector& s)
{
    std::string out = s.path.empty() ? std::string("/") : s.path;
    if (s.wildcard)
        out += " wildcard";
    if (s.followLinks)
        out += " follow";
    if (!s.includePatterns.empty())
        out += " include=" + joined(s.includePatterns);
    if (!s.excludePatterns.empty())
        out += " exclude=" + joined(s.excludePatterns);
    if (!s.requiredPaths.empty())
        out += " required=" + joined(s.requiredPaths);
    return out;
}

void addToManifest(cache::ContextManifest& manifest, ContentTree& tree, const ContentKey& key)
{
    for (std::size_t i = 0; i < key.selectors.size(); ++i) {
        const std::string text = selectorText(key.selectors[i]);
        if (manifest.find(text))
            continue;
        cache::ManifestSelector sel;
        sel.selector = text;
        sel.checksum = key.checksums[i].str();
        std::map<std::string, cache::ManifestFile> files;
        for (const TreeEntry& e : tree.entries(key.selectors[i])) {
            cache::ManifestFile f;
            f.type = typeName(e.typeflag);
            f.mode = e.mode;
            f.size = e.typeflag == '0' ? e.size : 0;
            f.digest = e.digest.empty() ? std::string() : e.digest.str();
            f.link = e.linkname;
            sel.paths.push_back(e.path);
            files.emplace(e.path, std::move(f));
        }
        manifest.add(std::move(sel), files);
    }
}

std::vector<ChangedFile> diffManifests(const cache::ContextManifest& before, const cache::ContextManifest& now,
                                       const std::vector<std::string>& selectors, ContentTree* tree)
{
    std::set<std::string> oldPaths, newPaths;
    for (const auto& text : selectors) {
        const cache::ManifestSelector* n = now.find(text);
        if (n)
            newPaths.insert(n->paths.begin(), n->paths.end());
        if (const cache::ManifestSelector* o = before.find(text)) {
            oldPaths.insert(o->paths.begin(), o->paths.end());
        } else if (n) {
            for (const auto& p : n->paths)
                if (before.files.count(p))
                    oldPaths.insert(p);
        }
    }
    std::set<std::string> all = oldPaths;
    all.insert(newPaths.begin(), newPaths.end());
    std::vector<ChangedFile> out;
    for (const auto& path : all) {
        const bool had = oldPaths.count(path) > 0, has = newPaths.count(path) > 0;
        const cache::ManifestFile* o = had ? &before.files.at(path) : nullptr;
        const cache::ManifestFile* n = has ? &now.files.at(path) : nullptr;
        if (o && n && *o == *n)
            continue;
        ChangedFile c;
        c.path = path;
        c.change = !o ? "added" : !n ? "removed" : "changed";
        if (o) {
            c.oldType = o->type;
            c.oldMode = o->mode;
            if (o->type == "file")
                c.oldSize = o->size;
            c.oldLink = o->link;
        }
        if (n) {
            c.newType = n->type;
            c.newMode = n->mode;
            if (n->type == "file")
                c.newSize = n->size;
            c.newLink = n->link;
        }
        if (o && n) {
            c.modeChanged = o->mode != n->mode;
            if (o->type != n->type || o->link != n->link || o->size != n->size) {
                c.contentChanged = true;
            } else if (o->digest != n->digest) {
                // The checksum covers the header (mode, size, xattrs) and the bytes: with the mode
                // unchanged the bytes (or xattrs) differ; with the mode changed too, hash the file
                // as it would be with the old mode and compare.
                c.contentChanged = true;
                if (c.modeChanged && n->type == "file" && tree) {
                    try {
                        c.contentChanged = tree->checksumWithMode(path, o->mode).str() != o->digest;
                    } catch (const Error&) {
                    }
                }
            }
            if (!c.contentChanged && !c.modeChanged)
                continue; // e.g. a directory whose entries changed: they are listed themselves
        } else {
            c.contentChanged = true;
        }
        out.push_back(std::move(c));
    }
    return out;
}

std::string describeChange(const ChangedFile& f)
{
    if (f.change == "added")
        return f.path + ": added";
    if (f.change == "removed")
        return f.path + ": removed";
    std::string out = f.path + ":";
    if (f.contentChanged) {
        if (f.oldType != f.newType)
            out += " " + f.oldType + " -> " + f.newType;
        else if (f.newType == "symlink")
            out += " link " + f.oldLink + " -> " + f.newLink;
        else
            out += " content changed";
        if (f.oldSize && f.newSize && *f.oldSize != *f.newSize)
            out += " (" + std::to_string(*f.oldSize) + " -> " + std::to_string(*f.newSize) + " bytes)";
    }
    if (f.modeChanged)
        out += std::string(f.contentChanged ? "," : "") + " mode " + octal(*f.oldMode) + " -> " + octal(*f.newMode);
    return out;
}

ContextHistory::ContextHistory(const fs::path& dataDir, const fs::path& contextDir, const fs::path& dockerfile)
{
    const std::string id = canonicalOrAbsolute(contextDir).string() + '\0' + canonicalOrAbsolute(dockerfile).string();
    dir_ = dataDir / "history" / std::string(oci::Digest::of(id).hex());
}

std::vector<fs::path> ContextHistory::builds() const
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".json")
            out.push_back(it->path());
    // Names start with a zero-padded nanosecond timestamp.
    std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) { return a.filename() > b.filename(); });
    return out;
}

cache::ContextManifest ContextHistory::load(const fs::path& file)
{
    return cache::ContextManifest::parse(readFile(file, cache::kMaxContextManifestBytes), file.string());
}

fs::path ContextHistory::record(const cache::ContextManifest& manifest, std::size_t keep)
{
    const std::string json = manifest.toJson();
    const std::string hash = std::string(oci::Digest::of(json).hex()).substr(0, 16);
    FileLock lock(dir_ / ".lock");
    std::vector<fs::path> existing = builds();
    if (!existing.empty() && existing.front().stem().string().ends_with("-" + hash))
        return existing.front();
    const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "%020lld", static_cast<long long>(now));
    const fs::path file = dir_ / (std::string(stamp) + "-" + hash + ".json");
    writeFileAtomic(file, json);
    existing.insert(existing.begin(), file);
    for (std::size_t i = keep; i < existing.size(); ++i) {
        std::error_code ec;
        fs::remove(existing[i], ec);
    }
    return file;
}

} // namespace cachescope::solver
