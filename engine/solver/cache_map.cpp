#include "solver/cache_map.h"

#include "base/base64.h"
#include "base/error.h"
#include "base/go_json.h"
#include "solver/go_path.h"
#include "solver/go_struct.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

namespace cachescope::solver {

namespace {

std::string joinNul(const std::vector<std::string>& parts)
{
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i)
            out += '\0';
        out += parts[i];
    }
    return out;
}

// A Dockerfile default cache mount keeps its ID in the key (ID == dest, or "<namespace>/<dest>"
// with the namespace cut at the first "/"); any other ID and the sharing mode are cleared.
bool shouldClearCacheOpt(const Mount& m)
{
    if (!m.cacheOpt)
        return false;
    if (m.cacheOpt->sharing != CacheSharing::Shared)
        return true;
    if (m.cacheOpt->id == m.dest)
        return false;
    std::size_t slash = m.cacheOpt->id.find('/');
    if (slash != std::string::npos && m.cacheOpt->id.substr(slash + 1) == m.dest)
        return false;
    return true;
}

void addPlatform(GoStruct& g, const Platform& p)
{
    g.always("OS", p.os).always("Arch", p.architecture);
    g.str("Variant", p.variant).str("OSVersion", p.osVersion).strings("OSFeatures", p.osFeatures);
}

CacheMap finish(std::string plaintext)
{
    CacheMap cm;
    cm.digest = oci::Digest::of(plaintext);
    cm.plaintext = std::move(plaintext);
    return cm;
}

struct FileSelectorSet {
    std::vector<ContentSelector> selectors;
};

void addSelector(std::map<std::int64_t, FileSelectorSet>& m, std::int64_t idx, ContentSelector sel)
{
    m[idx].selectors.push_back(std::move(sel));
}

void processOwner(const std::optional<ChownOpt>& owner, std::map<std::int64_t, FileSelectorSet>& m)
{
    if (!owner)
        return;
    // A name is resolved from /etc/passwd (/etc/group) of the named input, which thus gets a selector.
    const auto byName = [&](const std::optional<UserOpt>& u, const char* file) {
        if (!u)
            return;
        if (const auto* n = std::get_if<UserOpt::ByName>(&u->user)) {
            if (n->input < 0)
                throw Error("file op: invalid user index " + std::to_string(n->input));
            ContentSelector s;
            s.path = file;
            s.followLinks = true;
            addSelector(m, n->input, std::move(s));
        }
    };
    byName(owner->user, "/etc/passwd");
    byName(owner->group, "/etc/group");
}

// BuildKit keeps the pre-"indexes" key for the common wiring (see isDefaultIndexes in ops/file.go);
// note it compares with the number of actions, not the number of inputs.
bool isDefaultIndexes(const std::vector<std::array<std::int64_t, 3>>& idxs)
{
    if (idxs.empty())
        return false;
    const auto n = static_cast<std::int64_t>(idxs.size());
    for (std::int64_t i = 0; i < n; ++i) {
        const auto& idx = idxs[static_cast<std::size_t>(i)];
        if (i == 0 && idx[0] != 0)
            return false;
        if (i != 0 && idx[0] != n + (i - 1))
            return false;
        if (idx[1] != -1 && idx[1] != 1)
            return false;
        if (i == n - 1 && idx[2] != 0)
            return false;
        if (i != n - 1 && idx[2] != -1)
            return false;
    }
    return true;
}

} // namespace

oci::Digest recordDigest(const oci::Digest& opDigest, int output)
{
    return oci::Digest::of(opDigest.str() + "@" + std::to_string(output));
}

oci::Digest CacheMap::record(int output) const
{
    return recordDigest(digest, output);
}

ContentKeyDigest contentKeyDigest(const std::vector<oci::Digest>& checksums)
{
    std::vector<std::string> parts;
    parts.reserve(checksums.size());
    for (const auto& c : checksums)
        parts.push_back(c.str());
    ContentKeyDigest k;
    k.plaintext = joinNul(parts);
    k.digest = oci::Digest::of(k.plaintext);
    k.record = recordDigest(k.digest, -1);
    return k;
}

std::vector<std::string> dedupePaths(std::vector<std::string> paths)
{
    if (paths.size() <= 1)
        return paths;
    std::set<std::string> unique(paths.begin(), paths.end());
    std::vector<std::string> out;
    for (const auto& p1 : unique) {
        bool skip = false;
        for (const auto& p2 : unique) {
            std::string parent = p2.ends_with('/') ? p2 : p2 + "/";
            if (p1 != p2 && p1.starts_with(parent)) {
                skip = true;
                break;
            }
        }
        if (!skip)
            out.push_back(p1);
    }
    return out; // std::set iteration is already sorted bytewise
}

std::vector<ContentSelector> dedupeSelectors(const std::vector<ContentSelector>& selectors)
{
    std::vector<std::string> plain, follow;
    for (const auto& s : selectors) {
        if (!s.hasWildcardOrFilters())
            (s.followLinks ? follow : plain).push_back(s.path);
    }
    std::vector<ContentSelector> out;
    for (const auto& p : dedupePaths(plain))
        out.push_back(ContentSelector::of(p));
    for (const auto& p : dedupePaths(follow))
        out.push_back(ContentSelector::of(p, true));
    for (const auto& s : selectors) {
        if (s.hasWildcardOrFilters())
            out.push_back(s);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
    return out;
}

CacheMap cacheMap(const ExecOp& original)
{
    ExecOp op = original;
    for (auto& h : op.meta.extraHosts)
        h.ip.clear();
    for (auto& m : op.mounts) {
        m.selector.clear();
        if (shouldClearCacheOpt(m))
            m.cacheOpt = CacheOpt{};
    }
    op.meta.proxyEnv.reset();
    const Platform platform = op.platform ? *op.platform : defaultPlatform();

    // Compatibility with old keys: a lone plain root mount is left out of the key.
    if (op.mounts.size() == 1) {
        const Mount& m = op.mounts[0];
        if (m.dest == "/" && m.selector.empty() && !m.readonly && m.mountType == MountType::Bind && !m.cacheOpt &&
            !m.sshOpt && !m.secretOpt && m.resultId.empty())
            op.mounts.clear();
    }

    GoStruct wrapper;
    wrapper.always("Type", "buildkit.exec.v0").always("Exec", toGoJson(op));
    addPlatform(wrapper, platform);
    CacheMap cm = finish(goJson(wrapper.json()));

    // Selectors and content keys come from the original mounts (selectors intact).
    cm.deps.resize(static_cast<std::size_t>(std::max(original.numInputs, 0)));
    std::vector<std::vector<std::string>> selectors(cm.deps.size());
    for (const auto& m : original.mounts) {
        if (m.mountType == MountType::Secret || m.mountType == MountType::Ssh || m.mountType == MountType::Tmpfs)
            continue;
        if (m.input == NoInput)
            continue;
        if (m.input < 0 || static_cast<std::size_t>(m.input) >= cm.deps.size())
            throw Error("exec op: mount " + m.dest + " refers to input " + std::to_string(m.input) + " of " +
                        std::to_string(cm.deps.size()));
        const std::string sel = goPathJoin("/", m.selector);
        selectors[static_cast<std::size_t>(m.input)].push_back(sel);

        // Content keys are safe when the mount cannot change what later steps see.
        bool contentBased = m.output == SkipOutput || m.readonly || sel == "/";
        switch (m.contentCache) {
        case MountContentCache::Off:
            contentBased = false;
            break;
        case MountContentCache::On:
            if (!contentBased)
                throw Error("exec op: content cache forced on for writable mount " + m.dest);
            break;
        case MountContentCache::Default:
            if (m.dest == "/")
                contentBased = false; // never for the root filesystem: too expensive
            break;
        }
        cm.deps[static_cast<std::size_t>(m.input)].contentBased = contentBased; // last mount wins, as in BuildKit
    }
    for (std::size_t i = 0; i < cm.deps.size(); ++i) {
        auto& dep = cm.deps[i];
        if (!selectors[i].empty()) {
            dep.selectorPlaintext = joinNul(selectors[i]);
            dep.selector = oci::Digest::of(dep.selectorPlaintext);
        }
        if (dep.contentBased) {
            const auto paths = dedupePaths(selectors[i]);
            bool whole = false;
            for (const auto& p : paths)
                whole = whole || p.empty() || p == "/";
            if (!whole) {
                for (const auto& p : paths)
                    dep.contentSelectors.push_back(ContentSelector::of(p, true));
            }
        }
    }
    return cm;
}

CacheMap cacheMap(const FileOp& op)
{
    std::map<std::int64_t, FileSelectorSet> selectors;
    std::set<std::int64_t> invalid;
    std::vector<std::string> actions;
    std::vector<std::array<std::int64_t, 3>> indexes;

    for (const auto& fa : op.actions) {
        if (fa.input != -1)
            invalid.insert(fa.input); // a destination input never gets a selector
        FileActionKind action = fa.action;
        if (auto* copy = std::get_if<FileActionCopy>(&action)) {
            processOwner(copy->owner, selectors);
            if (fa.secondaryInput != -1 && fa.secondaryInput < op.numInputs) {
                ContentSelector s;
                s.path = copy->src;
                s.followLinks = copy->followSymlink;
                s.wildcard = copy->allowWildcard && containsWildcards(copy->src);
                s.includePatterns = copy->includePatterns;
                s.excludePatterns = copy->excludePatterns;
                s.requiredPaths = copy->requiredPaths;
                addSelector(selectors, fa.secondaryInput, std::move(s));
                copy->src = goPathBase(copy->src); // the full path lives in the selector
            }
        } else if (auto* mkdir = std::get_if<FileActionMkDir>(&action)) {
            processOwner(mkdir->owner, selectors);
        } else if (auto* mkfile = std::get_if<FileActionMkFile>(&action)) {
            processOwner(mkfile->owner, selectors);
        }
        actions.push_back(base64Encode(goJson(toGoJson(action))));
        indexes.push_back({fa.input, fa.secondaryInput, fa.output});
    }

    GoStruct wrapper;
    wrapper.always("Type", "buildkit.file.v0").always("Actions", actions);
    if (!isDefaultIndexes(indexes)) {
        auto arr = nlohmann::ordered_json::array();
        for (const auto& idx : indexes)
            arr.push_back({idx[0], idx[1], idx[2]});
        wrapper.always("indexes", std::move(arr));
    }
    CacheMap cm = finish(goJson(wrapper.json()));
    cm.deps.resize(static_cast<std::size_t>(std::max(op.numInputs, 0)));

    for (const auto& [idx, set] : selectors) {
        if (idx < 0 || idx >= op.numInputs)
            throw Error("file op: invalid input index " + std::to_string(idx) + " with " +
                        std::to_string(op.numInputs) + " inputs");
        if (invalid.count(idx))
            continue;
        std::vector<std::string> paths;
        for (const auto& s : set.selectors)
            paths.push_back(s.path);
        std::sort(paths.begin(), paths.end());
        std::reverse(paths.begin(), paths.end()); // "historical reasons" in BuildKit
        auto& dep = cm.deps[static_cast<std::size_t>(idx)];
        dep.selectorPlaintext = joinNul(paths);
        dep.selector = oci::Digest::of(dep.selectorPlaintext);
        dep.contentBased = true;
        dep.contentSelectors = dedupeSelectors(set.selectors);
    }
    return cm;
}

CacheMap cacheMap(const MergeOp& op)
{
    auto inputs = nlohmann::ordered_json::array();
    for (auto i : op.inputs)
        inputs.push_back(GoStruct().num("input", i).json());
    GoStruct merge;
    merge.list("inputs", std::move(inputs));
    GoStruct wrapper;
    wrapper.always("Type", "buildkit.merge.v0").always("Merge", std::move(merge).json());
    CacheMap cm = finish(goJson(wrapper.json()));
    cm.deps.resize(op.inputs.size());
    return cm;
}

std::vector<CacheMap> cacheMaps(const ImageSource& image)
{
    GoStruct key;
    key.always("Digest", image.manifestDigest.str());
    addPlatform(key, image.platform);
    if (image.layerLimit)
        key.always("Limit", *image.layerLimit);
    const std::string keyJson = goJson(key.json());
    const oci::Digest k0 = oci::Digest::of(keyJson);

    std::vector<CacheMap> maps;
    maps.push_back(finish("buildkit.source.v0:" + k0.str()));
    maps.back().keyPlaintext = keyJson;
    const oci::Digest chain = chainId(image.diffIds);
    if (chain.empty()) {
        maps.push_back(maps.front());
    } else {
        maps.push_back(finish("buildkit.source.v0:" + chain.str()));
    }
    return maps;
}

CacheMap cacheMap(const LocalSource& local)
{
    const auto nullableList = [](const std::optional<std::vector<std::string>>& v) {
        return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
    };
    GoStruct session;
    session.always("SessionID", local.sessionId)
        .always("IncludePatterns", nullableList(local.includePatterns))
        .always("ExcludePatterns", nullableList(local.excludePatterns))
        .always("FollowPaths", nullableList(local.followPaths));
    const std::string keyJson = goJson(session.json());
    CacheMap cm = finish("buildkit.source.v0:session:" + local.name + ":" + oci::Digest::of(keyJson).str());
    cm.keyPlaintext = keyJson;
    cm.random = true;
    return cm;
}

} // namespace cachescope::solver
