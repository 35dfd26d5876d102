#pragma once
// Go's `path` package semantics (slash-separated, lexical): BuildKit cleans and splits
// selector paths with them, and the results enter keys, so the corner cases must agree.
#include <string>
#include <string_view>

namespace cachescope::solver {

std::string goPathClean(std::string_view p);
// path.Join: joins the non-empty elements with "/" and cleans; "" when all are empty.
std::string goPathJoin(std::string_view a, std::string_view b);
std::string goPathBase(std::string_view p);
std::string goPathDir(std::string_view p);
// path.Match (shell pattern: *, ?, [...], \ escapes; '/' never matched by a wildcard).
bool goPathMatch(std::string_view pattern, std::string_view name);
// Whether a path contains an unescaped *, ? or [ (BuildKit's containsWildcards).
bool containsWildcards(std::string_view p);

} // namespace cachescope::solver
