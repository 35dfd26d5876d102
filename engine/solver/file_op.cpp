#include "solver/file_op.h"

#include "base/base64.h"
#include "solver/go_struct.h"

namespace cachescope::solver {

namespace {

template <class... F>
struct Overload : F... {
    using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

void addOwner(GoStruct& g, const std::optional<ChownOpt>& owner)
{
    if (owner)
        g.object("owner", toGoJson(*owner));
}

} // namespace

nlohmann::ordered_json toGoJson(const UserOpt& u)
{
    // BuildKit's custom UserOpt JSON (solver/pb/json.go): {"User":{"byName":{…}}} or {"User":{"byId":N}}.
    GoStruct inner;
    if (const auto* name = std::get_if<UserOpt::ByName>(&u.user))
        inner.object("byName", GoStruct().str("name", name->name).num("input", name->input).json());
    else
        inner.num("byId", std::get<std::uint32_t>(u.user));
    return GoStruct().always("User", std::move(inner).json()).json();
}

nlohmann::ordered_json toGoJson(const ChownOpt& c)
{
    GoStruct g;
    if (c.user)
        g.object("user", toGoJson(*c.user));
    if (c.group)
        g.object("group", toGoJson(*c.group));
    return std::move(g).json();
}

nlohmann::ordered_json toGoJson(const FileActionKind& action)
{
    return std::visit(
        Overload{
            [](const FileActionCopy& a) {
                GoStruct g;
                g.str("src", a.src).str("dest", a.dest);
                addOwner(g, a.owner);
                g.num("mode", a.mode)
                    .flag("followSymlink", a.followSymlink)
                    .flag("dirCopyContents", a.dirCopyContents)
                    .flag("attemptUnpackDockerCompatibility", a.attemptUnpackDockerCompatibility)
                    .flag("createDestPath", a.createDestPath)
                    .flag("allowWildcard", a.allowWildcard)
                    .flag("allowEmptyWildcard", a.allowEmptyWildcard)
                    .num("timestamp", a.timestamp)
                    .strings("include_patterns", a.includePatterns)
                    .strings("exclude_patterns", a.excludePatterns)
                    .flag("alwaysReplaceExistingDestPaths", a.alwaysReplaceExistingDestPaths)
                    .str("modeStr", a.modeStr)
                    .strings("required_paths", a.requiredPaths);
                return std::move(g).json();
            },
            [](const FileActionMkDir& a) {
                GoStruct g;
                g.str("path", a.path).num("mode", a.mode).flag("makeParents", a.makeParents);
                addOwner(g, a.owner);
                g.num("timestamp", a.timestamp);
                return std::move(g).json();
            },
            [](const FileActionMkFile& a) {
                GoStruct g;
                g.str("path", a.path).num("mode", a.mode).str("data", base64Encode(a.data));
                addOwner(g, a.owner);
                g.num("timestamp", a.timestamp);
                return std::move(g).json();
            },
            [](const FileActionRm& a) {
                return GoStruct()
                    .str("path", a.path)
                    .flag("allowNotFound", a.allowNotFound)
                    .flag("allowWildcard", a.allowWildcard)
                    .json();
            },
            [](const FileActionSymlink& a) {
                GoStruct g;
                g.str("oldpath", a.oldpath).str("newpath", a.newpath);
                addOwner(g, a.owner);
                g.num("timestamp", a.timestamp);
                return std::move(g).json();
            },
        },
        action);
}

} // namespace cachescope::solver
