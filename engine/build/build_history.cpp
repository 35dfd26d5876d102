#include "build/build_history.h"

#include "base/error.h"
#include "base/files.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>

namespace cachescope::build {

namespace fs = std::filesystem;

namespace {

constexpr int kRecordVersion = 1;

std::string stateName(StepOutcome::State s)
{
    switch (s) {
    case StepOutcome::State::Cached:
        return "cached";
    case StepOutcome::State::NotEvaluated:
        return "not-evaluated";
    case StepOutcome::State::Ran:
        return "ran";
    case StepOutcome::State::Failed:
        return "failed";
    case StepOutcome::State::Pending:
        break;
    }
    return "pending";
}

// "2026-11-27T20:41:07.123Z" (sorts as time does).
std::string isoTime(std::chrono::system_clock::time_point t)
{
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buf;
}

// The file name: the time without separators and a random suffix (two builds in one millisecond).
std::string recordId(const std::string& time)
{
    std::string id;
    for (char c : time)
        if (c != '-' && c != ':' && c != '.')
            id += c;
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "-%08x", rd());
    return id + suffix;
}

template <class T>
T field(const nlohmann::json& j, const char* name, const std::string& what, T fallback)
{
    const auto it = j.find(name);
    if (it == j.end() || it->is_null())
        return fallback;
    try {
        return it->get<T>();
    } catch (const nlohmann::json::exception&) {
        throw Error(what + ": field \"" + name + "\" has the wrong type (" + it->type_name() + ")");
    }
}

// "[builder 2/4] RUN make" -> "builder\nRUN make": the step without its counter, which shifts
// when a step is added or removed earlier in the stage.
std::string alignKey(const HistoryStep& s)
{
    std::string text = s.name;
    if (!text.empty() && text[0] == '[') {
        if (const auto close = text.find("] "); close != std::string::npos)
            text = text.substr(close + 2);
    }
    return s.stage + "\n" + text;
}

StepDiff compareSteps(const HistoryStep* a, const HistoryStep* b)
{
    StepDiff d;
    if (a)
        d.a = *a;
    if (b)
        d.b = *b;
    if (a && b) {
        d.stateChanged = a->state != b->state;
        d.sourceChanged = a->source != b->source;
        d.keyChanged = a->key != b->key;
        // Only when both builds computed it (a build without an import may not check a stage's output).
        d.contentChanged = !a->contentKey.empty() && !b->contentKey.empty() && a->contentKey != b->contentKey;
        d.nameChanged = alignKey(*a) != alignKey(*b);
        d.durationDeltaMs = b->durationMs - a->durationMs;
    }
    return d;
}

// Atomic for readers (temp file + rename) but not flushed to disk: a record lost to a power cut
// costs little, while an fsync would cost every build a few milliseconds.
void writeRecordFile(const fs::path& file, const std::string& text)
{
    const fs::path tmp = temporarySibling(file);
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    std::error_code ec;
    if (!out) {
        fs::remove(tmp, ec);
        throw Error("cannot write " + tmp.string());
    }
    fs::rename(tmp, file, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error("cannot rename " + tmp.string() + " to " + file.filename().string() + ": " + ec.message());
    }
}

} // namespace

fs::path buildHistoryDir(const fs::path& dataDir)
{
    return dataDir / "history" / "builds";
}

BuildRecord makeBuildRecord(const BuildOptions& o, const BuildResult& r, std::chrono::system_clock::time_point started)
{
    BuildRecord rec;
    rec.time = isoTime(started);
    std::error_code ec;
    const fs::path context = o.contextDir.empty() ? fs::path() : fs::absolute(o.contextDir, ec);
    rec.context = context.string();
    rec.dockerfile = (o.dockerfile.empty() ? context / "Dockerfile" : fs::absolute(o.dockerfile, ec)).string();
    rec.target = o.target;
    for (const auto& s : o.cacheFrom)
        rec.sources.push_back(s.raw);
    rec.withImport = !o.cacheFrom.empty();
    rec.noCache = o.noCache;
    rec.ok = r.ok;
    rec.error = r.error;
    for (const StepOutcome& s : r.steps)
        rec.steps.push_back(HistoryStep{s.vertex, s.name, s.stage, s.key, s.contentKey, stateName(s.state), s.source,
                                        static_cast<std::int64_t>(s.duration.count()), s.bytes});
    rec.totals.totalMs = r.timings.total.count();
    rec.totals.importMs = r.timings.importTime.count();
    rec.totals.planMs = r.timings.planTime.count();
    rec.totals.executeMs = r.timings.executeTime.count();
    rec.totals.exportMs = r.timings.exportTime.count();
    rec.totals.bytesPulled = r.bytesPulled;
    rec.totals.stepsCached = r.stepsCached();
    rec.totals.stepsRun = r.stepsRun();
    return rec;
}

nlohmann::ordered_json buildRecordJson(const BuildRecord& r)
{
    nlohmann::ordered_json j;
    j["version"] = kRecordVersion;
    j["id"] = r.id;
    j["time"] = r.time;
    j["context"] = r.context;
    j["dockerfile"] = r.dockerfile;
    j["target"] = r.target;
    j["sources"] = r.sources;
    j["withImport"] = r.withImport;
    j["noCache"] = r.noCache;
    j["ok"] = r.ok;
    j["error"] = r.error;
    j["steps"] = nlohmann::ordered_json::array();
    for (const HistoryStep& s : r.steps)
        j["steps"].push_back({{"vertex", s.vertex},
                              {"name", s.name},
                              {"stage", s.stage},
                              {"key", s.key},
                              {"contentKey", s.contentKey},
                              {"state", s.state},
                              {"source", s.source},
                              {"durationMs", s.durationMs},
                              {"layerBytes", s.layerBytes}});
    j["totals"] = {{"totalMs", r.totals.totalMs},     {"importMs", r.totals.importMs},
                   {"planMs", r.totals.planMs},       {"executeMs", r.totals.executeMs},
                   {"exportMs", r.totals.exportMs},   {"bytesPulled", r.totals.bytesPulled},
                   {"stepsCached", r.totals.stepsCached}, {"stepsRun", r.totals.stepsRun}};
    return j;
}

BuildRecord buildRecordFromJson(const nlohmann::json& j, const std::string& what)
{
    if (!j.is_object())
        throw Error(what + ": not a build record (a JSON object is expected)");
    if (const int v = field<int>(j, "version", what, 0); v != kRecordVersion)
        throw Error(what + ": build record version " + std::to_string(v) + " is not supported (" +
                    std::to_string(kRecordVersion) + " is)");
    BuildRecord r;
    r.id = field<std::string>(j, "id", what, "");
    r.time = field<std::string>(j, "time", what, "");
    if (r.id.empty() || r.time.empty())
        throw Error(what + ": the build record has no id or time");
    r.context = field<std::string>(j, "context", what, "");
    r.dockerfile = field<std::string>(j, "dockerfile", what, "");
    r.target = field<std::string>(j, "target", what, "");
    r.sources = field<std::vector<std::string>>(j, "sources", what, {});
    r.withImport = field<bool>(j, "withImport", what, false);
    r.noCache = field<bool>(j, "noCache", what, false);
    r.ok = field<bool>(j, "ok", what, false);
    r.error = field<std::string>(j, "error", what, "");
    const auto steps = j.find("steps");
    if (steps == j.end() || !steps->is_array())
        throw Error(what + ": the build record has no \"steps\" array");
    for (const auto& s : *steps) {
        if (!s.is_object())
            throw Error(what + ": a step is not a JSON object");
        HistoryStep h;
        h.vertex = field<int>(s, "vertex", what, 0);
        h.name = field<std::string>(s, "name", what, "");
        h.stage = field<std::string>(s, "stage", what, "");
        h.key = field<std::string>(s, "key", what, "");
        h.contentKey = field<std::string>(s, "contentKey", what, "");
        h.state = field<std::string>(s, "state", what, "pending");
        h.source = field<std::string>(s, "source", what, "");
        h.durationMs = field<std::int64_t>(s, "durationMs", what, 0);
        h.layerBytes = field<std::uint64_t>(s, "layerBytes", what, 0);
        r.steps.push_back(std::move(h));
    }
    if (const auto t = j.find("totals"); t != j.end() && t->is_object()) {
        r.totals.totalMs = field<std::int64_t>(*t, "totalMs", what, 0);
        r.totals.importMs = field<std::int64_t>(*t, "importMs", what, 0);
        r.totals.planMs = field<std::int64_t>(*t, "planMs", what, 0);
        r.totals.executeMs = field<std::int64_t>(*t, "executeMs", what, 0);
        r.totals.exportMs = field<std::int64_t>(*t, "exportMs", what, 0);
        r.totals.bytesPulled = field<std::uint64_t>(*t, "bytesPulled", what, 0);
        r.totals.stepsCached = field<std::size_t>(*t, "stepsCached", what, 0);
        r.totals.stepsRun = field<std::size_t>(*t, "stepsRun", what, 0);
    }
    return r;
}

fs::path writeBuildRecord(const fs::path& dataDir, BuildRecord& record)
{
    const fs::path dir = buildHistoryDir(dataDir);
    record.id = recordId(record.time);
    const fs::path file = dir / (record.id + ".json");
    try {
        fs::create_directories(dir);
        writeRecordFile(file, buildRecordJson(record).dump(1) + "\n");
    } catch (const std::exception& e) {
        throw Error("build history " + file.string() + ": " + e.what());
    }
    // Bounded: the oldest records go (names sort as their times do).
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".json")
            files.push_back(entry.path());
    if (files.size() > kMaxBuildRecords) {
        std::sort(files.begin(), files.end());
        for (std::size_t i = 0; i + kMaxBuildRecords < files.size(); ++i)
            fs::remove(files[i], ec);
    }
    return file;
}

std::string recordBuildInHistory(const BuildOptions& options, const BuildResult& result,
                                 std::chrono::system_clock::time_point started)
{
    try {
        BuildRecord record = makeBuildRecord(options, result, started);
        writeBuildRecord(options.dataDir.empty() ? defaultDataDir() : options.dataDir, record);
        return {};
    } catch (const std::exception& e) {
        return std::string("build history not written: ") + e.what();
    }
}

BuildHistoryListing listBuildHistory(const fs::path& dataDir)
{
    BuildHistoryListing out;
    const fs::path dir = buildHistoryDir(dataDir);
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return out;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const fs::path& p = entry.path();
        if (p.extension() != ".json" || !entry.is_regular_file(ec))
            continue; // temporary files of a write in progress
        try {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(readFile(p, 64u << 20));
            } catch (const nlohmann::json::exception& e) {
                throw Error(p.string() + ": not valid JSON (" + e.what() + ")");
            }
            out.builds.push_back(buildRecordFromJson(j, p.string()));
        } catch (const Error& e) {
            out.skipped.push_back(e.what());
        }
    }
    std::sort(out.builds.begin(), out.builds.end(), [](const BuildRecord& x, const BuildRecord& y) {
        return x.time != y.time ? x.time > y.time : x.id > y.id;
    });
    std::sort(out.skipped.begin(), out.skipped.end());
    return out;
}

BuildRecord loadBuildRecord(const fs::path& dataDir, const std::string& id)
{
    if (id.empty() || id.find('/') != std::string::npos || id.find("..") != std::string::npos)
        throw Error("build \"" + id + "\": not a build id (see `cachescope-cli history`)");
    const fs::path p = buildHistoryDir(dataDir) / (id + ".json");
    if (!fs::exists(p))
        throw Error("build " + id + ": no such record in " + buildHistoryDir(dataDir).string());
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readFile(p, 64u << 20));
    } catch (const nlohmann::json::exception& e) {
        throw Error(p.string() + ": not valid JSON (" + e.what() + ")");
    }
    return buildRecordFromJson(j, p.string());
}

std::size_t BuildDiff::changedSteps() const
{
    return static_cast<std::size_t>(std::count_if(steps.begin(), steps.end(), [](const StepDiff& d) { return d.changed(); }));
}

BuildDiff diffBuilds(const BuildRecord& a, const BuildRecord& b)
{
    const std::size_t n = a.steps.size(), m = b.steps.size();
    std::vector<std::string> ka, kb;
    for (const auto& s : a.steps)
        ka.push_back(alignKey(s));
    for (const auto& s : b.steps)
        kb.push_back(alignKey(s));
    // Longest common subsequence of the steps' keys: the steps both builds have, in order.
    std::vector<std::vector<std::uint32_t>> lcs(n + 1, std::vector<std::uint32_t>(m + 1, 0));
    for (std::size_t i = n; i-- > 0;)
        for (std::size_t j = m; j-- > 0;)
            lcs[i][j] = ka[i] == kb[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    BuildDiff diff;
    // Between two aligned steps, the leftovers of one stage pair up by order (a step whose
    // instruction changed); the rest are in one build only.
    auto flushGap = [&](std::size_t ia, std::size_t ea, std::size_t ib, std::size_t eb) {
        std::vector<bool> usedB(eb - ib, false);
        for (std::size_t i = ia; i < ea; ++i) {
            const HistoryStep* partner = nullptr;
            for (std::size_t j = ib; j < eb && !partner; ++j)
                if (!usedB[j - ib] && b.steps[j].stage == a.steps[i].stage) {
                    usedB[j - ib] = true;
                    partner = &b.steps[j];
                }
            diff.steps.push_back(compareSteps(&a.steps[i], partner));
        }
        for (std::size_t j = ib; j < eb; ++j)
            if (!usedB[j - ib])
                diff.steps.push_back(compareSteps(nullptr, &b.steps[j]));
    };
    std::size_t i = 0, j = 0, gapA = 0, gapB = 0;
    while (i < n && j < m) {
        if (ka[i] == kb[j]) {
            flushGap(gapA, i, gapB, j);
            diff.steps.push_back(compareSteps(&a.steps[i], &b.steps[j]));
            gapA = ++i;
            gapB = ++j;
        } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
            ++i;
        } else {
            ++j;
        }
    }
    flushGap(gapA, n, gapB, m);
    diff.totalDeltaMs = b.totals.totalMs - a.totals.totalMs;
    return diff;
}

} // namespace cachescope::build
