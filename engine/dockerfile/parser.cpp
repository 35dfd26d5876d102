#include "dockerfile/parser.h"

#include "dockerfile/line_parsers.h"
#include "dockerfile/text_util.h"

#include <optional>
#include <set>

namespace cachescope::dockerfile {
namespace {

// A message without a location yet; parseDockerfileText adds "<file>:<line>: ".
class LineError : public std::exception {
public:
    explicit LineError(std::string m) : msg(std::move(m)) {}
    const char* what() const noexcept override { return msg.c_str(); }
    std::string msg;
};

std::vector<std::string_view> splitLinesKeepEndings(std::string_view text)
{
    std::vector<std::string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        const auto nl = text.find('\n', start);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        lines.push_back(text.substr(start, end - start));
        start = end;
    }
    return lines;
}

std::string_view trimNewline(std::string_view s)
{
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

bool isCommentLine(std::string_view raw)
{
    const std::string_view t = trimLeftSpace(trimNewline(raw));
    return !t.empty() && t[0] == '#';
}

// Recognises `# name=value` at the top of the file until the first line that is not one.
class DirectiveParser {
public:
    explicit DirectiveParser(Directives& out) : out_(out) {}

    void parseLine(std::string_view line)
    {
        if (done_)
            return;
        if (line.empty() || line[0] != '#') {
            done_ = true;
            return;
        }
        line = trimLeftSpace(line.substr(1));
        // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
        std::size_t i = 0;
        auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
        auto digit = [](char c) { return c >= '0' && c <= '9'; };
        auto reSpace = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; };
        if (line.empty() || !alpha(line[0])) {
            done_ = true;
            return;
        }
        while (i < line.size() && (alpha(line[i]) || digit(line[i])))
            ++i;
        const std::string name = toLowerAscii(line.substr(0, i));
        while (i < line.size() && reSpace(line[i]))
            ++i;
        if (i >= line.size() || line[i] != '=') {
            done_ = true;
            return;
        }
        ++i;
        while (i < line.size() && reSpace(line[i]))
            ++i;
        std::string_view value = line.substr(i);
        while (!value.empty() && reSpace(value.back()))
            value.remove_suffix(1);
        if (value.empty() || (name != "syntax" && name != "escape" && name != "check")) {
            done_ = true;
            return;
        }
        if (!seen_.insert(name).second)
            throw LineError("only one " + name + " parser directive can be used");
        if (name == "escape") {
            if (value != "\\" && value != "`")
                throw LineError("invalid escape token '" + std::string(value) + "' does not match ` or \\");
            out_.escapeToken = value[0];
            out_.hasEscape = true;
        } else if (name == "syntax") {
            out_.syntax = std::string(value);
            out_.hasSyntax = true;
        } else {
            out_.check = std::string(value);
            out_.hasCheck = true;
        }
    }

private:
    Directives& out_;
    std::set<std::string> seen_;
    bool done_ = false;
};

// Removes a trailing escape character (and blanks after it) that continues the line; returns true
// when the line ends here. An escape preceded by another escape is an escaped escape, not a continuation.
bool trimContinuation(std::string& line, char esc)
{
    std::size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t'))
        --end;
    if (end == 0 || line[end - 1] != esc)
        return true;
    if (end >= 2 && line[end - 2] == esc)
        return true;
    line.resize(end - 1);
    return false;
}

// The instruction line without its heredoc bodies, split the way its instruction needs.
Node newNodeFromLine(std::string_view line, char esc);

void parseArguments(Node& node, const std::string& rest, char esc)
{
    const std::string& k = node.keyword;
    auto maybeJson = [&](bool toList) {
        if (auto arr = parseJsonStringArray(rest)) {
            node.args = std::move(*arr);
            node.json = true;
            return;
        }
        if (toList) {
            if (!rest.empty())
                node.args = splitWhitespace(rest);
        } else if (!rest.empty()) {
            node.args = {rest};
        }
    };
    try {
        if (k == "add" || k == "copy" || k == "volume") {
            maybeJson(true);
        } else if (k == "cmd" || k == "entrypoint" || k == "run" || k == "shell") {
            if (!rest.empty())
                maybeJson(false);
        } else if (k == "arg") {
            node.args = parseWords(rest, esc);
        } else if (k == "env" || k == "label") {
            // args are triples: key, value, separator ("=" or "" for the legacy `ENV key value` form)
            const auto words = parseWords(rest, esc);
            if (words.empty())
                return;
            if (words[0].find('=') == std::string::npos) {
                const auto parts = splitWhitespace(rest, 2);
                if (parts.size() < 2)
                    throw LineError(toUpperAscii(k) + " must have two arguments");
                node.args = {parts[0], parts[1], ""};
                return;
            }
            for (const std::string& w : words) {
                const auto eq = w.find('=');
                if (eq == std::string::npos)
                    throw LineError("Syntax error - can't find = in \"" + w + "\". Must be of the form: name=value");
                node.args.push_back(w.substr(0, eq));
                node.args.push_back(w.substr(eq + 1));
                node.args.push_back("=");
            }
        } else if (k == "expose" || k == "from") {
            if (!rest.empty())
                node.args = splitWhitespace(rest);
        } else if (k == "healthcheck") {
            // The type word, then CMD's arguments in JSON or shell form.
            std::size_t sep = 0;
            while (sep < rest.size() && !isGoSpace(static_cast<unsigned char>(rest[sep])))
                ++sep;
            std::size_t next = sep;
            while (next < rest.size() && isGoSpace(static_cast<unsigned char>(rest[next])))
                ++next;
            if (sep == 0)
                return;
            const std::string cmd = rest.substr(next);
            node.args = {rest.substr(0, sep)};
            if (!cmd.empty()) {
                if (auto arr = parseJsonStringArray(cmd)) {
                    node.args.insert(node.args.end(), arr->begin(), arr->end());
                    node.json = true;
                } else {
                    node.args.push_back(cmd);
                }
            }
        } else if (k == "maintainer" || k == "stopsignal" || k == "user" || k == "workdir") {
            if (!rest.empty())
                node.args = {rest};
        } else if (k == "onbuild") {
            if (rest.empty())
                return;
            auto trigger = std::make_shared<Node>(newNodeFromLine(rest, esc));
            node.args.push_back(trigger->keyword);
            node.args.insert(node.args.end(), trigger->args.begin(), trigger->args.end());
            node.trigger = std::move(trigger);
        }
        // Unknown instructions keep no arguments; instructions.cpp reports them.
    } catch (const Error& e) {
        throw LineError(e.what());
    }
}

Node newNodeFromLine(std::string_view line, char esc)
{
    SplitCommand split = splitCommand(line);
    Node node;
    node.keywordAsWritten = split.keyword;
    node.keyword = toLowerAscii(split.keyword);
    node.original = std::string(line);
    node.flags = std::move(split.flags);
    parseArguments(node, split.rest, esc);
    return node;
}

bool canContainHeredoc(const Node& node)
{
    const Node* n = &node;
    if (n->keyword == "onbuild" && n->trigger)
        n = n->trigger.get();
    if (n->keyword != "run" && n->keyword != "copy" && n->keyword != "add")
        return false;
    return !n->json;
}

} // namespace

ParsedDockerfile parseDockerfileText(std::string_view text, const std::string& fileName)
{
    ParsedDockerfile out;
    out.fileName = fileName;
    DirectiveParser directives(out.directives);
    const auto lines = splitLinesKeepEndings(text);
    std::vector<std::string> comments;

    auto processLine = [&](std::string_view raw, bool stripLeft, int lineNo) -> std::string {
        std::string_view token = trimNewline(raw);
        if (stripLeft)
            token = trimLeftSpace(token);
        try {
            directives.parseLine(token);
        } catch (const LineError& e) {
            throwAt(fileName, lineNo, e.msg);
        }
        // Only a line that *starts* with '#' is a comment (indented ones are caught by isCommentLine).
        if (!token.empty() && token[0] == '#')
            return {};
        return std::string(token);
    };

    std::size_t i = 0;
    while (i < lines.size()) {
        std::string_view raw = lines[i];
        if (i == 0 && startsWith(raw, "\xEF\xBB\xBF"))
            raw.remove_prefix(3);
        if (isCommentLine(raw))
            comments.emplace_back(trimSpace(trimLeftSpace(trimNewline(raw)).substr(1)));
        std::string line = processLine(raw, true, static_cast<int>(i) + 1);
        ++i;
        const int startLine = static_cast<int>(i);
        bool endOfLine = trimContinuation(line, out.directives.escapeToken);
        if (endOfLine && line.empty())
            continue;

        bool emptyContinuation = false;
        while (!endOfLine && i < lines.size()) {
            const std::string_view next = lines[i];
            std::string part = processLine(next, false, static_cast<int>(i) + 1);
            ++i;
            if (isCommentLine(next))
                continue; // comments inside a continued instruction vanish
            if (trimLeftSpace(part).empty()) {
                emptyContinuation = true;
                continue;
            }
            endOfLine = trimContinuation(part, out.directives.escapeToken);
            line += part;
        }
        if (emptyContinuation)
            out.warnings.push_back(fileName + ":" + std::to_string(startLine) + ": empty continuation line found in: " + line);

        Node node;
        try {
            node = newNodeFromLine(line, out.directives.escapeToken);
        } catch (const LineError& e) {
            throwAt(fileName, startLine, e.msg);
        }

        if (canContainHeredoc(node)) {
            std::vector<Heredoc> docs;
            try {
                docs = heredocsFromLine(line);
            } catch (const Error& e) {
                throwAt(fileName, startLine, e.what());
            }
            for (Heredoc& doc : docs) {
                bool terminated = false;
                while (i < lines.size()) {
                    const std::string_view body = lines[i];
                    ++i;
                    std::string_view candidate = trimNewline(body);
                    if (doc.chomp)
                        while (!candidate.empty() && candidate.front() == '\t')
                            candidate.remove_prefix(1);
                    if (candidate == doc.name) {
                        terminated = true;
                        break;
                    }
                    doc.content += body;
                }
                if (!terminated)
                    throwAt(fileName, startLine, "unterminated heredoc " + doc.name);
                node.heredocs.push_back(std::move(doc));
            }
        }
        node.range = {startLine, static_cast<int>(i)};
        node.comments = std::move(comments);
        comments.clear();
        out.nodes.push_back(std::move(node));
    }
    if (out.nodes.empty())
        throwAt(fileName, static_cast<int>(lines.size()), "file with no instructions");
    return out;
}

Node parseInstructionLine(std::string_view line, char escapeToken, const std::string& fileName, int lineNumber)
{
    std::string text;
    if (escapeToken != '\\')
        text = "# escape=`\n";
    text += line;
    ParsedDockerfile parsed;
    try {
        parsed = parseDockerfileText(text, fileName);
    } catch (const Error& e) {
        throwAt(fileName, lineNumber, std::string("ONBUILD trigger: ") + e.what());
    }
    if (parsed.nodes.size() != 1)
        throwAt(fileName, lineNumber, "onbuild trigger should be a single expression");
    Node node = std::move(parsed.nodes.front());
    node.range = {lineNumber, lineNumber};
    return node;
}

} // namespace cachescope::dockerfile
