#pragma once
// Variable expansion and word splitting with the rules of BuildKit's Dockerfile shell lexer
// (frontend/dockerfile/shell): $v, ${v}, ${v:-w} ${v-w} ${v:+w} ${v+w} ${v:?msg} ${v?msg},
// ${v#p} ${v##p} ${v%p} ${v%%p}, ${v/p/r} ${v//p/r}; single quotes are literal, double quotes
// keep everything but $ and escapes; the escape character comes from the `# escape=` directive.
// It is not a shell: $(...) and `...` are left as written.
#include "dockerfile/env_list.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace cachescope::dockerfile {

struct ShellLexResult {
    std::string word;                // the whole input, expanded (ProcessWord)
    std::vector<std::string> words;  // split on unquoted whitespace after expansion (ProcessWords)
    std::set<std::string> matched;   // variables that were found
    std::set<std::string> unmatched; // variables that were referenced but not set
};

class ShellLex {
public:
    explicit ShellLex(char escapeToken = '\\') : escape_(escapeToken) {}

    // Options, named as in BuildKit: keep quote characters in the output; keep escape characters;
    // treat quotes as ordinary characters; leave references to unset variables as written.
    bool rawQuotes = false;
    bool rawEscapes = false;
    bool skipProcessQuotes = false;
    bool skipUnsetEnv = false;

    char escapeToken() const { return escape_; }

    // Throws cachescope::Error ("failed to process \"<input>\": <reason>") on a syntax error or a
    // ${v?msg} / ${v:?msg} whose variable is unset (or empty).
    ShellLexResult process(std::string_view input, const EnvList& env) const;
    std::string processWord(std::string_view input, const EnvList& env) const { return process(input, env).word; }
    std::vector<std::string> processWords(std::string_view input, const EnvList& env) const
    {
        return process(input, env).words;
    }

private:
    char escape_;
};

} // namespace cachescope::dockerfile
