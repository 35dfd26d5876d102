#include "exec/rooted_path.h"

#include "exec/unique_fd.h"

#include <cerrno>
#include <deque>
#include <sys/stat.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

std::vector<std::string> splitPath(std::string_view path)
{
    std::vector<std::string> parts;
    std::size_t i = 0;
    while (i < path.size()) {
        std::size_t j = path.find('/', i);
        if (j == std::string_view::npos)
            j = path.size();
        if (j > i)
            parts.emplace_back(path.substr(i, j - i));
        i = j + 1;
    }
    return parts;
}

std::string cleanEntryName(std::string_view name)
{
    if (!name.empty() && name.front() == '/')
        throw PathEscape("is an absolute path");
    std::vector<std::string> out;
    for (auto& part : splitPath(name)) {
        if (part == ".")
            continue;
        if (part == "..") {
            if (out.empty())
                throw PathEscape("escapes the root");
            out.pop_back();
            continue;
        }
        out.push_back(std::move(part));
    }
    std::string joined;
    for (const auto& part : out) {
        if (!joined.empty())
            joined += '/';
        joined += part;
    }
    return joined;
}

namespace {

constexpr int MaxLinkHops = 40; // what the kernel allows before ELOOP

std::string readLink(const fs::path& p)
{
    std::string target(256, '\0');
    for (;;) {
        ssize_t n = ::readlink(p.c_str(), target.data(), target.size());
        if (n < 0)
            throw Error(errnoMessage(p.string() + ": readlink"));
        if (static_cast<std::size_t>(n) < target.size()) {
            target.resize(static_cast<std::size_t>(n));
            return target;
        }
        target.resize(target.size() * 2);
    }
}

} // namespace

fs::path RootedPath::resolveParent(const std::string& clean, bool createMissing) const
{
    std::vector<std::string> parts = splitPath(clean);
    if (parts.empty())
        return {};
    parts.pop_back();

    std::deque<std::string> todo(parts.begin(), parts.end());
    std::vector<std::string> resolved;
    fs::path current = root_;
    int hops = 0;
    auto rebuild = [&] {
        current = root_;
        for (const auto& r : resolved)
            current /= r;
    };
    while (!todo.empty()) {
        std::string part = std::move(todo.front());
        todo.pop_front();
        if (part == ".")
            continue;
        if (part == "..") {
            if (resolved.empty())
                throw PathEscape("escapes the root");
            resolved.pop_back();
            rebuild();
            continue;
        }
        fs::path next = current / part;
        struct stat st {};
        if (::lstat(next.c_str(), &st) != 0) {
            if (errno != ENOENT)
                throw Error(errnoMessage(next.string()));
            if (!createMissing)
                return {};
            if (::mkdir(next.c_str(), 0755) != 0 && errno != EEXIST)
                throw Error(errnoMessage(next.string() + ": mkdir"));
            resolved.push_back(part);
            current = next;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            resolved.push_back(part);
            current = next;
            continue;
        }
        if (S_ISLNK(st.st_mode)) {
            if (++hops > MaxLinkHops)
                throw PathEscape("has too many levels of symbolic links");
            std::string target = readLink(next);
            if (!target.empty() && target.front() == '/') {
                // Absolute targets mean the image's root, never the host's.
                resolved.clear();
                current = root_;
            }
            auto targetParts = splitPath(target);
            todo.insert(todo.begin(), targetParts.begin(), targetParts.end());
            continue;
        }
        throw Error("parent \"" + fs::relative(next, root_).string() + "\" is not a directory");
    }
    return current;
}

fs::path RootedPath::resolveEntry(const std::string& clean, bool createMissing) const
{
    auto parts = splitPath(clean);
    if (parts.empty())
        return root_;
    fs::path parent = resolveParent(clean, createMissing);
    if (parent.empty())
        return {};
    return parent / parts.back();
}

} // namespace cachescope::exec
