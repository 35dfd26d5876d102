// The Dockerfile frontend: directives, continuations, heredocs, JSON/shell forms, typed instructions and
// flags, variable expansion, stage resolution, and BuildKit's step display names checked against the
// fixtures' real BuildKit logs and the catalogue's exec-op plaintexts.
#include "base/error.h"
#include "base/files.h"
#include "dockerfile/dockerignore.h"
#include "dockerfile/instructions.h"
#include "dockerfile/shell_lex.h"
#include "dockerfile/stages.h"
#include "support/fixtures.h"

#include <nlohmann/json.hpp>

#include <QTest>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace cachescope;
using namespace cachescope::dockerfile;
namespace fs = std::filesystem;

namespace {

const std::string kBusybox = "127.0.0.1:5055/library/busybox:latest";
const std::string kBusyboxDigest = "sha256:2722d69496d5e1d6421d9ad0fe69f160c52c8e075ee34c17b95dd0205b17c457";
const std::string kPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fs::path v024()
{
    return test::fixturesDir() / "buildkit-v0.24";
}

// The message of the Error that `f` throws ("" when it does not throw).
template <typename F> std::string errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// Images as the fixtures' registry served them: a tag resolves to "<ref>@<digest>" with PATH only.
BaseImage fixtureImage(const std::string& name, const Platform&)
{
    BaseImage img;
    img.config.env = {kPath};
    if (name == kBusybox)
        img.resolvedName = name + "@" + kBusyboxDigest;
    else
        img.resolvedName = name.find('@') == std::string::npos ? name + "@sha256:" + std::string(64, '0') : name;
    return img;
}

BuildPlan plan(const std::string& text, BuildOptions opt = {})
{
    if (!opt.resolveImage)
        opt.resolveImage = fixtureImage;
    return planBuild(parseDockerfile(text), opt);
}

std::vector<std::string> stepNames(const BuildPlan& p)
{
    std::vector<std::string> out;
    for (const PlannedStep& s : p.steps())
        out.push_back(s.displayName);
    return out;
}

const PlannedInstruction* instructionAtLine(const BuildPlan& p, int line)
{
    for (int s : p.dispatchOrder)
        for (const PlannedInstruction& pi : p.stages[s].instructions)
            if (!pi.onbuild && pi.instruction.range.startLine == line)
                return &pi;
    return nullptr;
}

std::vector<std::string> splitTab(const std::string& line)
{
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, '\t'))
        out.push_back(cell);
    return out;
}

// step-status.tsv: the step names of one run.
std::vector<std::string> fixtureSteps(const std::string& fixture, const std::string& run)
{
    std::ifstream in(v024() / fixture / "step-status.tsv");
    std::vector<std::string> out;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        const auto cells = splitTab(line);
        if (cells.size() >= 2 && cells[0] == run)
            out.push_back(cells[1]);
    }
    return out;
}

} // namespace

class TestDockerfileParser : public QObject {
    Q_OBJECT
private slots:
    // ---- lines: directives, comments, continuations ----

    void directivesAtTheTopOnly()
    {
        const Dockerfile df = parseDockerfile("# syntax=docker/dockerfile:1.7\n# CHECK = skip=all\n# Escape=`\nFROM a\n");
        QVERIFY(df.directives.hasSyntax);
        QCOMPARE(df.directives.syntax, std::string("docker/dockerfile:1.7"));
        QCOMPARE(df.directives.check, std::string("skip=all"));
        QCOMPARE(df.escapeToken(), '`');

        // After a blank line, an ordinary comment or an instruction they are plain comments.
        QCOMPARE(parseDockerfile("\n# escape=`\nFROM a\n").escapeToken(), '\\');
        QCOMPARE(parseDockerfile("# hello\n# escape=`\nFROM a\n").escapeToken(), '\\');
        QCOMPARE(parseDockerfile("FROM a\n# escape=`\n").escapeToken(), '\\');
        // Unknown directives end the directive block too.
        QCOMPARE(parseDockerfile("# foo=bar\n# escape=`\nFROM a\n").escapeToken(), '\\');

        QCOMPARE(errorOf([] { parseDockerfile("# escape=`\n# escape=\\\nFROM a\n"); }),
                 std::string("Dockerfile:2: only one escape parser directive can be used"));
        QCOMPARE(errorOf([] { parseDockerfile("# escape=x\nFROM a\n"); }),
                 std::string("Dockerfile:1: invalid escape token 'x' does not match ` or \\"));
    }

    void continuationsCommentsAndBlankLines()
    {
        const std::string text = "FROM busybox\n"
                                 "RUN echo one \\\n"
                                 "# a comment inside the instruction\n"
                                 "    # an indented one\n"
                                 "    && echo two \\  \t\n"
                                 "\n"
                                 "    && echo three\n"
                                 "  # trailing comment\n"
                                 "ENV A=1\n";
        const Dockerfile df = parseDockerfile(text);
        QCOMPARE(df.stages.size(), std::size_t(1));
        const auto& ins = df.stages[0].instructions;
        QCOMPARE(ins.size(), std::size_t(2));
        const Instruction& run = ins[0];
        QCOMPARE(run.kind, InstructionKind::Run);
        // Escape + newline removed, the next line appended with its indentation; comments vanish.
        QCOMPARE(run.code, std::string("RUN echo one     && echo two     && echo three"));
        QCOMPARE(run.as<RunInstruction>().command.args,
                 std::vector<std::string>{"echo one     && echo two     && echo three"});
        QVERIFY(run.as<RunInstruction>().command.prependShell);
        QCOMPARE(run.range, (SourceRange{2, 7}));
        QCOMPARE(ins[1].range, (SourceRange{9, 9}));
        QCOMPARE(df.warnings.size(), std::size_t(1)); // the empty continuation line
    }

    void escapedEscapeIsNotAContinuation()
    {
        const Dockerfile df = parseDockerfile("FROM a\nRUN echo \\\\\nRUN echo next\n");
        QCOMPARE(df.stages[0].instructions.size(), std::size_t(2));
        QCOMPARE(df.stages[0].instructions[0].code, std::string("RUN echo \\\\"));
    }

    void backtickEscape()
    {
        const std::string text = "# escape=`\n"
                                 "FROM mcr.example/windows\n"
                                 "RUN dir c:\\ `\n"
                                 "    && echo done\n"
                                 "COPY a`$b c:\\dest\\\n"
                                 "ENV P=c:\\path X=`$Y\n";
        const Dockerfile df = parseDockerfile(text);
        const auto& ins = df.stages[0].instructions;
        QCOMPARE(ins.size(), std::size_t(3));
        QCOMPARE(ins[0].as<RunInstruction>().command.args, std::vector<std::string>{"dir c:\\     && echo done"});
        // With ` as escape, backslashes are ordinary and `$ is a literal dollar.
        BuildOptions opt;
        const BuildPlan p = planBuild(df, opt);
        const auto& planned = p.stages[0].instructions;
        QCOMPARE(planned[1].instruction.as<CopyInstruction>().sources, std::vector<std::string>{"a$b"});
        QCOMPARE(planned[1].instruction.as<CopyInstruction>().dest, std::string("c:\\dest\\"));
        QCOMPARE(planned[2].before.env.get("P"), std::optional<std::string>());
        QCOMPARE(p.stages[0].finalState.env.get("P"), std::optional<std::string>("c:\\path"));
        QCOMPARE(p.stages[0].finalState.env.get("X"), std::optional<std::string>("$Y"));
    }

    // ---- heredocs ----

    void heredocsOfEachKind()
    {
        const std::string text = "FROM busybox\n"
                                 "RUN <<EOF\n"
                                 "echo $HOME\n"
                                 "EOF\n"
                                 "RUN <<-EOF\n"
                                 "\techo tabbed\n"
                                 "\tEOF\n"
                                 "RUN <<\"QUOTED\" bash\n"
                                 "echo $x\n"
                                 "QUOTED\n"
                                 "COPY <<one.txt <<'two.txt' /docs/\n"
                                 "1 $A\n"
                                 "one.txt\n"
                                 "2 $A\n"
                                 "two.txt\n"
                                 "RUN [\"cat\", \"<<EOF\"]\n"
                                 "CMD <<EOF\n";
        const Dockerfile df = parseDockerfile(text);
        const auto& ins = df.stages[0].instructions;
        QCOMPARE(ins.size(), std::size_t(6));

        const auto& h1 = ins[0].as<RunInstruction>().heredocs;
        QCOMPARE(h1.size(), std::size_t(1));
        QCOMPARE(h1[0], (InlineFile{"EOF", "echo $HOME\n", false, true}));
        QCOMPARE(ins[0].range, (SourceRange{2, 4}));
        QCOMPARE(ins[0].code, std::string("RUN <<EOF"));

        const auto& h2 = ins[1].as<RunInstruction>().heredocs;
        QCOMPARE(h2[0], (InlineFile{"EOF", "\techo tabbed\n", true, true})); // RUN chomps when it runs

        const auto& h3 = ins[2].as<RunInstruction>().heredocs;
        QCOMPARE(h3[0].name, std::string("QUOTED"));
        QVERIFY(!h3[0].expand);

        const auto& c = ins[3].as<CopyInstruction>();
        QVERIFY(c.sources.empty());
        QCOMPARE(c.dest, std::string("/docs/"));
        QCOMPARE(c.sourceContents.size(), std::size_t(2));
        QCOMPARE(c.sourceContents[0], (InlineFile{"one.txt", "1 $A\n", false, true}));
        QCOMPARE(c.sourceContents[1], (InlineFile{"two.txt", "2 $A\n", false, false}));

        // No heredocs in the JSON form, nor for CMD.
        QVERIFY(ins[4].as<RunInstruction>().heredocs.empty());
        QCOMPARE(ins[4].as<RunInstruction>().command.args, (std::vector<std::string>{"cat", "<<EOF"}));
        QCOMPARE(ins[5].as<CmdInstruction>().command.args, std::vector<std::string>{"<<EOF"});

        // COPY heredoc bodies are expanded unless the delimiter was quoted.
        BuildOptions opt;
        const BuildPlan p = planBuild(parseDockerfile("FROM scratch\nARG A=x\n" + text.substr(text.find("COPY"))), opt);
        const auto& planned = p.stages[0].instructions[1].instruction.as<CopyInstruction>();
        QCOMPARE(planned.sourceContents[0].data, std::string("1 x\n"));
        QCOMPARE(planned.sourceContents[1].data, std::string("2 $A\n"));
    }

    void heredocRunArgsAndNames()
    {
        // Catalogue 04: the args BuildKit hashed.
        const std::string text = readFile(v024() / "catalogue/04-heredocs/context/Dockerfile");
        const BuildPlan p = plan(text);
        const auto* plain = instructionAtLine(p, 2);
        QVERIFY(plain);
        QCOMPARE(plain->runArgs, (std::vector<std::string>{"/bin/sh", "-c",
                                                           "echo plain heredoc > /h1.txt\necho second line >> /h1.txt\n"}));
        QCOMPARE(plain->displayName, std::string("[2/6] RUN <<EOF (echo plain heredoc > /h1.txt...)"));
        const auto* shebang = instructionAtLine(p, 6);
        QCOMPARE(shebang->runArgs, (std::vector<std::string>{"/bin/sh", "-c", "/dev/pipes/EOF"}));
        QVERIFY(shebang->runScript);
        QCOMPARE(shebang->runScript->data, std::string("#!/bin/sh\necho shebang > /h2.txt\n"));
        QCOMPARE(shebang->displayName, std::string("[3/6] RUN <<EOF (#!/bin/sh...)"));
        const auto* two = instructionAtLine(p, 10);
        QCOMPARE(two->runArgs[2], std::string("<<FIRST cat > /h3a.txt && cat <<SECOND > /h3b.txt\nfirst doc\nFIRST\nsecond doc\nSECOND"));
        QCOMPARE(two->displayName, std::string("[4/6] RUN <<FIRST cat > /h3a.txt && cat <<SECOND > /h3b.txt"));
        const auto* tabbed = instructionAtLine(p, 20);
        QCOMPARE(tabbed->instruction.as<CopyInstruction>().sourceContents[0].data, std::string("tab indented\ntwo tabs\n"));
    }

    void unterminatedHeredoc()
    {
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nRUN <<EOF\necho hi\n"); }),
                 std::string("Dockerfile:2: unterminated heredoc EOF"));
    }

    // ---- JSON (exec) form ----

    void jsonFormWithOddSpacingAndFallback()
    {
        const std::string text = "FROM a\n"
                                 "CMD   [ \"echo\" ,\t\"x y\"  ]  \n"
                                 "ENTRYPOINT [\"a\", 'b']\n"
                                 "RUN [\"unterminated\"\n"
                                 "SHELL [\"/bin/bash\",\"-o\",\"pipefail\",\"-c\"]\n"
                                 "RUN [\"\\u00e9\\t\"]\n";
        const Dockerfile df = parseDockerfile(text);
        const auto& ins = df.stages[0].instructions;
        const CommandLine& cmd = ins[0].as<CmdInstruction>().command;
        QVERIFY(!cmd.prependShell);
        QCOMPARE(cmd.args, (std::vector<std::string>{"echo", "x y"}));
        // Invalid JSON: the text is a shell-form command.
        QVERIFY(ins[1].as<EntrypointInstruction>().command.prependShell);
        QCOMPARE(ins[1].as<EntrypointInstruction>().command.args, std::vector<std::string>{"[\"a\", 'b']"});
        QCOMPARE(ins[2].as<RunInstruction>().command.args, std::vector<std::string>{"[\"unterminated\""});
        QCOMPARE(ins[3].as<ShellInstruction>().shell, (std::vector<std::string>{"/bin/bash", "-o", "pipefail", "-c"}));
        QCOMPARE(ins[4].as<RunInstruction>().command.args, std::vector<std::string>{"\xC3\xA9\t"});

        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nRUN [\"a\", 1]\n"); }),
                 std::string("Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nSHELL /bin/bash -c\n"); }),
                 std::string("Dockerfile:2: SHELL requires the arguments to be in JSON form"));
    }

    // ---- every instruction and its flags ----

    void fromForms()
    {
        const Dockerfile df = parseDockerfile("FROM --platform=$BUILDPLATFORM golang:1.22 As Builder\nFROM builder\nfrom scratch\n");
        QCOMPARE(df.stages.size(), std::size_t(3));
        QCOMPARE(df.stages[0].from.baseName, std::string("golang:1.22"));
        QCOMPARE(df.stages[0].from.stageName, std::string("builder"));
        QCOMPARE(df.stages[0].from.platform, std::string("$BUILDPLATFORM"));
        QCOMPARE(df.stages[2].from.baseName, std::string("scratch"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a AS 1x\n"); }),
                 std::string("Dockerfile:1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a b\n"); }),
                 std::string("Dockerfile:1: FROM requires either one or three arguments"));
        QCOMPARE(errorOf([] { parseDockerfile("RUN x\nFROM a\n"); }),
                 std::string("Dockerfile:1: no build stage in current context"));
    }

    void runFlagsAndMounts()
    {
        const std::string text =
            "FROM a\n"
            "RUN --mount=type=cache,target=/root/.cache,id=gomod,sharing=locked,uid=1000,gid=1000,mode=0700 \\\n"
            "    --mount=type=bind,from=build,source=/out,target=/in,rw \\\n"
            "    --mount=type=secret,id=tok,env=TOKEN,required \\\n"
            "    --mount=type=ssh \\\n"
            "    --mount=type=tmpfs,dst=/t,size=1m \\\n"
            "    --mount=target=/ctx \\\n"
            "    --network=none make\n";
        BuildOptions opt;
        const BuildPlan p = planBuild(parseDockerfile("FROM a AS build\n" + text), opt);
        const PlannedInstruction& pi = p.stages[1].instructions[0];
        const auto& r = pi.instruction.as<RunInstruction>();
        QCOMPARE(r.network, NetworkMode::None);
        QCOMPARE(pi.mounts.size(), std::size_t(6));
        const RunMount& cache = pi.mounts[0];
        QCOMPARE(cache.type, MountType::Cache);
        QCOMPARE(cache.target, std::string("/root/.cache"));
        QCOMPARE(cache.id, std::string("gomod"));
        QCOMPARE(cache.sharing, std::optional<CacheSharing>(CacheSharing::Locked));
        QCOMPARE(cache.uid, std::optional<std::uint32_t>(1000));
        QCOMPARE(cache.mode, std::optional<std::uint32_t>(0700));
        QVERIFY(!cache.readOnly);
        const RunMount& bind = pi.mounts[1];
        QCOMPARE(bind.from, std::string("build"));
        QCOMPARE(bind.source, std::string("/out"));
        QVERIFY(!bind.readOnly);
        QCOMPARE(pi.mounts[2].type, MountType::Secret);
        QCOMPARE(pi.mounts[2].env, std::optional<std::string>("TOKEN"));
        QVERIFY(pi.mounts[2].required);
        QVERIFY(pi.mounts[2].readOnly);
        QCOMPARE(pi.mounts[3].type, MountType::Ssh);
        QCOMPARE(pi.mounts[4].sizeLimit, std::int64_t(1048576));
        QCOMPARE(pi.mounts[5].type, MountType::Bind);
        QVERIFY(pi.mounts[5].readOnly);
        // Sources: the cache mount reads scratch, bind from=build the stage, the others nothing/context.
        QCOMPARE(pi.sourceStages.size(), std::size_t(6));
        QCOMPARE(pi.sourceStages[1], 0);
        QCOMPARE(pi.sourceStages[5], -1);

        QCOMPARE(errorOf([] { plan("FROM a\nRUN --mount=type=bind,foo=bar x\n"); }),
                 std::string("Dockerfile:2: unexpected key 'foo' in 'foo=bar'"));
        QCOMPARE(errorOf([] { plan("FROM a\nRUN --mount=type=tmpfs,target=/t,uid=1 x\n"); }),
                 std::string("Dockerfile:2: uid not allowed for \"tmpfs\" type mounts"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nRUN --mount=type=bind,from=$X,target=/t x\n"); }),
                 std::string("Dockerfile:2: 'from' doesn't support variable expansion, define alias stage instead"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nRUN --network=bridge x\n"); }),
                 std::string("Dockerfile:2: unsupported network mode \"bridge\""));
        // --security is a labs flag: v0.24's built-in frontend does not know it.
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nRUN --security=insecure x\n"); }),
                 std::string("Dockerfile:2: unknown flag --security for RUN"));
        const Dockerfile labs = parseDockerfile("# syntax=docker/dockerfile:1-labs\nFROM a\nRUN --security=insecure x\n");
        QCOMPARE(labs.stages[0].instructions[0].as<RunInstruction>().security, SecurityMode::Insecure);
    }

    void copyAndAddFlags()
    {
        const std::string text = "FROM a\n"
                                 "COPY --from=build --chown=app:staff --chmod=0640 --link src/ \"dst dir/\" [\n"
                                 "ADD --checksum=sha256:abc --keep-git-dir=false --unpack=true --link=false https://x/y.tgz /y\n"
                                 "COPY --parents --exclude=*.md --exclude=tmp ./a/./b /c/\n";
        const Dockerfile df = parseDockerfile(text, ParseOptions{"Dockerfile", true});
        const auto& ins = df.stages[0].instructions;
        const auto& c = ins[0].as<CopyInstruction>();
        QCOMPARE(c.from, std::string("build"));
        QCOMPARE(c.chown, std::string("app:staff"));
        QCOMPARE(c.chmod, std::string("0640"));
        QVERIFY(c.link);
        // Shell-form COPY splits on whitespace only: quotes do not group (use the JSON form for spaces).
        QCOMPARE(c.sources, (std::vector<std::string>{"src/", "\"dst", "dir/\""}));
        QCOMPARE(c.dest, std::string("["));
        const auto& a = ins[1].as<CopyInstruction>();
        QVERIFY(a.isAdd);
        QCOMPARE(a.checksum, std::string("sha256:abc"));
        QCOMPARE(a.keepGitDir, std::optional<bool>(false));
        QCOMPARE(a.unpack, std::optional<bool>(true));
        QVERIFY(!a.link);
        const auto& p = ins[2].as<CopyInstruction>();
        QVERIFY(p.parents);
        QCOMPARE(p.excludes, (std::vector<std::string>{"*.md", "tmp"}));

        const Dockerfile json = parseDockerfile("FROM a\nCOPY [ \"a b\",  \"/c d/\" ]\n");
        QCOMPARE(json.stages[0].instructions[0].as<CopyInstruction>().sources, std::vector<std::string>{"a b"});
        QCOMPARE(json.stages[0].instructions[0].as<CopyInstruction>().dest, std::string("/c d/"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nRUN x\n\n\n\n\nCOPY --foo a b\n"); }),
                 std::string("Dockerfile:7: unknown flag --foo for COPY"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nCOPY --parents a b\n"); }),
                 std::string("Dockerfile:2: unknown flag --parents for COPY"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nCOPY --link=maybe a b\n"); }),
                 std::string("Dockerfile:2: expecting boolean value for flag --link of COPY, not: maybe"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nCOPY --chown a b\n"); }),
                 std::string("Dockerfile:2: missing a value on flag --chown for COPY"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nCOPY --from=a --from=b x y\n"); }),
                 std::string("Dockerfile:2: duplicate flag --from for COPY"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nADD --from=x a b\n"); }),
                 std::string("Dockerfile:2: unknown flag --from for ADD"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nCOPY onlyone\n"); }),
                 std::string("Dockerfile:2: COPY requires at least two arguments, but only one was provided. "
                             "Destination could not be determined."));
    }

    void envLabelArgForms()
    {
        const std::string text = "FROM a\n"
                                 "ENV A=1 B=\"two three\" C=four\\ five D='$A'\n"
                                 "ENV LEGACY value with  spaces\n"
                                 "LABEL \"com.example.k\"=\"v 1\" other=2\n"
                                 "ARG X Y=1 Z=\"q r\"\n";
        const Dockerfile df = parseDockerfile(text);
        const auto& ins = df.stages[0].instructions;
        const auto& env = ins[0].as<EnvInstruction>().vars;
        QCOMPARE(env.size(), std::size_t(4));
        QCOMPARE(env[1], (KeyValue{"B", "\"two three\"", false})); // quotes go away when expanded
        QCOMPARE(ins[1].as<EnvInstruction>().vars[0], (KeyValue{"LEGACY", "value with  spaces", true}));
        const auto& args = ins[3].as<ArgInstruction>().args;
        QCOMPARE(args.size(), std::size_t(3));
        QCOMPARE(args[0], (ArgDecl{"X", std::nullopt}));
        QCOMPARE(args[2], (ArgDecl{"Z", std::string("\"q r\"")}));

        const BuildPlan p = plan(text);
        const EnvList& fin = p.stages[0].finalState.env;
        QCOMPARE(fin.get("B"), std::optional<std::string>("two three"));
        QCOMPARE(fin.get("C"), std::optional<std::string>("four five"));
        QCOMPARE(fin.get("D"), std::optional<std::string>("$A"));
        QCOMPARE(fin.get("LEGACY"), std::optional<std::string>("value with  spaces"));
        QCOMPARE(fin.get("X"), std::optional<std::string>()); // no default, no build arg: absent
        QCOMPARE(fin.get("Z"), std::optional<std::string>("q r"));
        QCOMPARE(p.stages[0].image.labels.front(), (std::pair<std::string, std::string>{"com.example.k", "v 1"}));

        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nENV A=1 B\n"); }),
                 std::string("Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nENV ONLYKEY\n"); }), std::string("Dockerfile:2: ENV must have two arguments"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nARG =x\n"); }), std::string("Dockerfile:2: ARG names can not be blank"));
    }

    void metadataInstructions()
    {
        const std::string text = "FROM a\n"
                                 "EXPOSE 80/tcp $P\n"
                                 "USER ${U:-app}:grp\n"
                                 "WORKDIR rel/../x\n"
                                 "VOLUME [\"/data\", \"/logs\"]\n"
                                 "STOPSIGNAL SIGTERM\n"
                                 "HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://x/ || exit 1\n"
                                 "HEALTHCHECK NONE\n"
                                 "ONBUILD RUN echo trigger\n"
                                 "MAINTAINER someone <a@b>\n"
                                 "ENTRYPOINT [\"/bin/sh\", \"-c\"]\n"
                                 "CMD echo hi\n";
        const Dockerfile df = parseDockerfile(text);
        const auto& ins = df.stages[0].instructions;
        QCOMPARE(ins[5].as<HealthcheckInstruction>().test, (std::vector<std::string>{"CMD-SHELL", "curl -f http://x/ || exit 1"}));
        QCOMPARE(ins[5].as<HealthcheckInstruction>().interval, std::string("30s"));
        QCOMPARE(ins[5].as<HealthcheckInstruction>().retries, std::optional<int>(3));
        QCOMPARE(ins[6].as<HealthcheckInstruction>().test, std::vector<std::string>{"NONE"});
        QCOMPARE(ins[7].as<OnbuildInstruction>().expression, std::string("RUN echo trigger"));
        QCOMPARE(ins[8].as<MaintainerInstruction>().maintainer, std::string("someone <a@b>"));

        BuildOptions opt;
        opt.buildArgs = {{"P", "53/udp 9090"}};
        const BuildPlan p = plan("FROM a\nARG P\n" + text.substr(7), opt);
        const PlannedStage& st = p.stages[0];
        QCOMPARE(st.image.exposedPorts, (std::vector<std::string>{"80/tcp", "53/udp", "9090"}));
        QCOMPARE(st.finalState.user, std::optional<std::string>("app:grp"));
        QCOMPARE(st.finalState.cwd, std::string("/x"));
        QCOMPARE(st.image.volumes, (std::vector<std::string>{"/data", "/logs"}));
        QCOMPARE(st.image.onBuild, std::vector<std::string>{"RUN echo trigger"});
        QCOMPARE(st.image.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
        QCOMPARE(st.image.entrypoint, (std::vector<std::string>{"/bin/sh", "-c"}));

        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nHEALTHCHECK --interval=1ns CMD x\n"); }),
                 std::string("Dockerfile:2: Interval \"interval\" cannot be less than 1ms"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nONBUILD FROM b\n"); }),
                 std::string("Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\n\nFOO bar\n"); }), std::string("Dockerfile:3: unknown instruction: FOO"));
        QCOMPARE(errorOf([] { parseDockerfile("FROM a\nWORKDIR\n"); }), std::string("Dockerfile:2: WORKDIR requires exactly one argument"));
    }

    // ---- variable expansion ----

    void shellLexExpansion()
    {
        EnvList env;
        env.set("A", "a");
        env.set("EMPTY", "");
        env.set("SP", "x  y");
        env.set("P", "dir/file.tar.gz");
        const ShellLex lex;
        const std::vector<std::pair<std::string, std::string>> cases = {
            {"$A", "a"},
            {"${A}b", "ab"},
            {"$Ab", ""},
            {"\\$A", "$A"},
            {"'$A'", "$A"},
            {"\"$A\"", "a"},
            {"\"\\$A \\\" \\x\"", "$A \" \\x"},
            {"${UNSET:-w}", "w"},
            {"${EMPTY:-w}", "w"},
            {"${EMPTY-w}", ""},
            {"${A:+w}", "w"},
            {"${EMPTY:+w}", ""},
            {"${EMPTY+w}", "w"},
            {"${UNSET+w}", ""},
            {"${UNSET:-${A}x}", "ax"},
            {"${P#*/}", "file.tar.gz"},
            {"${P##*.}", "gz"},
            {"${P%.*}", "dir/file.tar"},
            {"${P%%.*}", "dir/file"},
            {"${P/tar/zip}", "dir/file.zip.gz"},
            {"${A//a/bb}", "bb"},
            {"$(cat x) $1 $$ $? $", "$(cat x)    $"},
            {"a\\", "a"},
            {"$UNSET", ""},
        };
        for (const auto& [in, want] : cases)
            QVERIFY2(lex.processWord(in, env) == want, (in + " -> " + lex.processWord(in, env)).c_str());

        QCOMPARE(lex.processWords("$SP 'q r' \"s t\"u", env), (std::vector<std::string>{"x", "y", "q r", "s tu"}));

        ShellLex run;
        run.rawQuotes = true;
        run.skipUnsetEnv = true;
        QCOMPARE(run.processWord("echo \"${A}, $(cat n)\" '$A' $UNSET ${UNSET:-x}", env),
                 std::string("echo \"a, $(cat n)\" '$A' $UNSET ${UNSET:-x}"));

        QCOMPARE(errorOf([&] { lex.processWord("${UNSET:?must be set}", env); }),
                 std::string("failed to process \"${UNSET:?must be set}\": UNSET: must be set"));
        QCOMPARE(errorOf([&] { lex.processWord("${EMPTY:?}", env); }),
                 std::string("failed to process \"${EMPTY:?}\": EMPTY: is not allowed to be empty"));
        QCOMPARE(errorOf([&] { lex.processWord("${A:-x", env); }), std::string("failed to process \"${A:-x\": syntax error: missing '}'"));
        // Go reads EOF as U+FFFD here, and reports it as a modifier.
        QCOMPARE(errorOf([&] { lex.processWord("${A", env); }),
                 std::string("failed to process \"${A\": unsupported modifier (\xEF\xBF\xBD) in substitution"));
        QCOMPARE(errorOf([&] { lex.processWord("${}", env); }), std::string("failed to process \"${}\": syntax error: bad substitution"));
        QCOMPARE(errorOf([&] { lex.processWord("'open", env); }),
                 std::string("failed to process \"'open\": unexpected end of statement while looking for matching single-quote"));

        // An expansion error inside an instruction names the line.
        QCOMPARE(errorOf([] { plan("FROM a\nWORKDIR ${DIR:?set DIR}\n"); }),
                 std::string("Dockerfile:2: failed to process \"${DIR:?set DIR}\": DIR: set DIR"));
    }

    void undefinedVariablesAndWhatIsExpanded()
    {
        const std::string text = "FROM a\n"
                                 "ENV DIR=/srv\n"
                                 "WORKDIR $DIR/$NOPE\n"
                                 "COPY $NOPE/x ${DIR}/\n"
                                 "RUN echo $DIR $NOPE \"$DIR\" '$DIR'\n"
                                 "CMD echo $DIR\n"
                                 "ENV A=1 B=$A\n";
        const BuildPlan p = plan(text);
        const auto& ins = p.stages[0].instructions;
        QCOMPARE(ins[1].instruction.as<WorkdirInstruction>().path, std::string("/srv/"));
        QCOMPARE(ins[2].instruction.as<CopyInstruction>().sources, std::vector<std::string>{"/x"});
        QCOMPARE(ins[2].instruction.as<CopyInstruction>().dest, std::string("/srv/"));
        // RUN text is left to the shell; CMD too.
        QCOMPARE(ins[3].runArgs[2], std::string("echo $DIR $NOPE \"$DIR\" '$DIR'"));
        QCOMPARE(p.stages[0].image.cmd[2], std::string("echo $DIR"));
        // ...but the step name shows set variables substituted, quotes kept, unset ones as written.
        QCOMPARE(ins[3].displayName, std::string("[4/4] RUN echo /srv $NOPE \"/srv\" '$DIR'"));
        QCOMPARE(ins[2].displayName, std::string("[3/4] COPY /x /srv/"));
        QCOMPARE(ins[1].displayName, std::string("[2/4] WORKDIR /srv/"));
        // All ENV values of one line are expanded before any is set.
        QCOMPARE(p.stages[0].finalState.env.get("B"), std::optional<std::string>(""));
    }

    // ---- stages, ARG scoping, env order ----

    void argScopingAcrossStages()
    {
        const std::string text = "ARG VERSION=1.0\n"
                                 "ARG IMG=base:${VERSION}\n"
                                 "FROM ${IMG} AS first\n"
                                 "RUN echo $VERSION\n"
                                 "ARG VERSION\n"
                                 "RUN echo $VERSION\n"
                                 "FROM first AS second\n"
                                 "ARG LOCAL=${VERSION}-local\n"
                                 "RUN echo\n"
                                 "FROM base:${VERSION}\n"
                                 "ARG TARGETARCH\n"
                                 "ARG BUILDPLATFORM\n"
                                 "ARG NOT_SET\n"
                                 "COPY --from=second /x /y\n";
        BuildOptions opt;
        opt.buildArgs = {{"VERSION", "2.0"}, {"UNDECLARED", "z"}};
        opt.targetPlatform = Platform::parse("linux/arm64");
        opt.buildPlatform = Platform::parse("linux/amd64");
        const BuildPlan p = plan(text, opt);
        QCOMPARE(p.stages[0].baseName, std::string("base:2.0"));
        // A global ARG is visible in a stage only once re-declared.
        QCOMPARE(p.stages[0].instructions[0].before.env.get("VERSION"), std::optional<std::string>());
        QCOMPARE(p.stages[0].instructions[2].before.env.get("VERSION"), std::optional<std::string>("2.0"));
        // FROM <stage> inherits the env (values set in the base stage come along).
        QCOMPARE(p.stages[1].baseKind, BaseKind::Stage);
        QCOMPARE(p.stages[1].baseStage, 0);
        QCOMPARE(p.stages[1].instructions[1].before.env.get("LOCAL"), std::optional<std::string>("2.0-local"));
        const EnvList& last = p.stages[2].finalState.env;
        QCOMPARE(last.get("TARGETARCH"), std::optional<std::string>("arm64"));
        QCOMPARE(last.get("BUILDPLATFORM"), std::optional<std::string>("linux/amd64"));
        QVERIFY(!last.contains("NOT_SET"));
        QVERIFY(!last.contains("UNDECLARED"));
        QCOMPARE(p.stages[2].platform, Platform::parse("linux/arm64"));
    }

    void envOrderLastSet()
    {
        // Catalogue 01: ENV A=1 B=two C=..., then ENV B=2 A=one D=new -> C, B, A, D.
        const BuildPlan p = plan(readFile(v024() / "catalogue/01-run-variants/context/Dockerfile"));
        const auto* env2 = instructionAtLine(p, 16);
        QVERIFY(env2);
        QCOMPARE(env2->before.env.toStrings(),
                 (std::vector<std::string>{kPath, "C=three four", "B=2", "A=one", "D=new"}));
    }

    void targetSelectionAndReachability()
    {
        const std::string text = "FROM a AS one\nRUN x\n"
                                 "FROM b AS two\nRUN y\n"
                                 "FROM one AS three\nCOPY --from=1 /f /f\n"
                                 "FROM c AS four\nRUN z\n";
        BuildOptions opt;
        opt.target = "THREE";
        const BuildPlan p = plan(text, opt);
        QCOMPARE(p.target, 2);
        QCOMPARE(p.dispatchOrder, (std::vector<int>{0, 1, 2}));
        QVERIFY(!p.stages[3].reachable);
        QCOMPARE(stepNames(p), (std::vector<std::string>{
                                   "[one 1/2] FROM a@sha256:" + std::string(64, '0'), "[one 2/2] RUN x",
                                   "[two 1/2] FROM b@sha256:" + std::string(64, '0'), "[two 2/2] RUN y",
                                   "[three 1/1] COPY --from=1 /f /f"}));

        opt.target = "nope";
        QCOMPARE(errorOf([&] { plan(text, opt); }), std::string("target stage \"nope\" could not be found"));
        QCOMPARE(errorOf([] { plan("FROM a AS x\nCOPY --from=$S /a /b\n"); }),
                 std::string("Dockerfile:2: variable expansion is not supported for --from, define a new stage with "
                             "FROM using ARG from global scope as a workaround"));
        QCOMPARE(errorOf([] { plan("FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b\n"); }),
                 std::string("Dockerfile:1: circular dependency detected on stage: x"));
        QCOMPARE(errorOf([] { plan("FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\n", BuildOptions{"x", {}, {}, {}, false, false, {}}); }),
                 std::string("Dockerfile:2: cannot copy from stage \"y\", it needs to be defined before current stage \"x\""));
    }

    void stepNumberingRules()
    {
        // Width of i follows n; WORKDIR / is counted but gets no vertex; ENV/LABEL/CMD are not steps.
        std::string text = "FROM a\nWORKDIR /\n";
        for (int i = 0; i < 10; ++i)
            text += "RUN step" + std::to_string(i) + "\nENV X=" + std::to_string(i) + "\n";
        const auto names = stepNames(plan(text));
        QCOMPARE(names.size(), std::size_t(11));
        QCOMPARE(names[0], "[ 1/12] FROM a@sha256:" + std::string(64, '0'));
        QCOMPARE(names[1], std::string("[ 2/12] RUN step0"));
        QCOMPARE(names[10], std::string("[11/12] RUN step9"));

        // COPY --link: the copy and its merge vertex share a number.
        const BuildPlan link = plan("FROM a\nCOPY --link x /x\nCOPY --link --chmod=644 y /y\n");
        QCOMPARE(link.stages[0].instructions[0].displayName, std::string("[2/3] COPY --link x /x"));
        QCOMPARE(link.stages[0].instructions[0].linkDisplayName, std::string("[2/3] LINK COPY --link x /x"));
        QCOMPARE(link.stages[0].instructions[1].displayName, std::string("[3/3] COPY --link --chmod=644 y /y"));
        QVERIFY(link.stages[0].instructions[1].linkDisplayName.empty());

        // Lower-case instructions are shown upper-case; a secret env is shown masked.
        const BuildPlan low = plan("FROM a\nrun --mount=type=secret,id=t,env=TOKEN echo $TOKEN\n");
        QCOMPARE(low.stages[0].instructions[0].displayName,
                 std::string("[stage-0 2/2] RUN --mount=type=secret,id=t,env=TOKEN echo ****"));

        // Several platforms requested: the platform leads the name.
        BuildOptions multi;
        multi.multiPlatform = true;
        multi.targetPlatform = Platform::parse("linux/arm64");
        multi.buildPlatform = Platform::parse("linux/amd64");
        const BuildPlan mp = plan("FROM --platform=$BUILDPLATFORM a\nARG TARGETARCH\nRUN go build\n", multi);
        QCOMPARE(mp.stages[0].instructions[1].displayName, std::string("[linux/amd64->arm64 2/2] RUN go build"));
    }

    void onbuildTriggers()
    {
        // The catalogue's onbuild child: the base image config carries one trigger.
        const nlohmann::json cfg = nlohmann::json::parse(
            readFile(v024() / "catalogue/09-misc/onbuild/base-image/onbuild-base.config.json"))["config"];
        BuildOptions opt;
        opt.resolveImage = [&](const std::string& name, const Platform&) {
            BaseImage img;
            img.config.env = cfg["Env"].get<std::vector<std::string>>();
            img.config.onBuild = cfg["OnBuild"].get<std::vector<std::string>>();
            img.resolvedName = name + "@sha256:ad0867e3";
            return img;
        };
        const BuildPlan p = planBuild(parseDockerfile(readFile(v024() / "catalogue/09-misc/onbuild/context/Dockerfile")), opt);
        const auto& ins = p.stages[0].instructions;
        QCOMPARE(ins.size(), std::size_t(2));
        QVERIFY(ins[0].onbuild);
        QCOMPARE(ins[0].runArgs, (std::vector<std::string>{"/bin/sh", "-c", "echo onbuild-trigger > /onbuild.txt"}));
        // The FROM is named before the triggers are counted (BuildKit resolves the image first), so it
        // shows n = 2 while the later steps show 3.
        QCOMPARE(stepNames(p), (std::vector<std::string>{"[1/2] FROM 127.0.0.1:5055/catalogue/onbuild-base:latest@sha256:ad0867e3",
                                                         "[2/3] ONBUILD RUN echo onbuild-trigger > /onbuild.txt",
                                                         "[3/3] RUN cat /onbuild.txt > /child.txt"}));
        QVERIFY(p.stages[0].image.onBuild.empty());

        // Triggers of a base *stage* fire in the stage built on it.
        const BuildPlan s = plan("FROM a AS base\nONBUILD COPY x /x\nFROM base\nRUN y\n");
        QCOMPARE(s.stages[1].instructions[0].displayName, std::string("[stage-1 1/2] ONBUILD COPY x /x"));
    }

    // ---- the fixtures: every Dockerfile parses; names equal BuildKit's ----

    void fixtureDisplayNames()
    {
        struct Case {
            std::string fixture, run;
            std::map<std::string, std::string> buildArgs;
        };
        const std::vector<Case> cases = {
            {"01-single-stage", "cold-noexport", {}},
            {"02-multi-stage", "cold-noexport", {}},
            {"03-build-args", "cold-noexport", {}},
            {"03-build-args", "buildarg-GREETING-import-local-max", {{"GREETING", "hi"}}},
            {"03-build-args", "buildarg-UNUSED-import-local-max", {{"UNUSED", "y"}}},
            {"04-scratch-copy", "cold-noexport", {}},
        };
        for (const Case& c : cases) {
            BuildOptions opt;
            opt.buildArgs = c.buildArgs;
            opt.resolveImage = fixtureImage;
            const BuildPlan p = planBuild(parseDockerfile(readFile(v024() / c.fixture / "context/Dockerfile")), opt);
            // One image vertex serves every stage built on the same image: BuildKit prints it once.
            std::vector<std::string> got;
            std::set<std::string> images;
            for (const PlannedStep& s : p.steps()) {
                if (s.instruction < 0 && !images.insert(p.stages[s.stage].baseImage.resolvedName).second)
                    continue;
                got.push_back(s.displayName);
            }
            std::vector<std::string> want = fixtureSteps(c.fixture, c.run);
            QVERIFY2(!want.empty(), c.fixture.c_str());
            std::sort(got.begin(), got.end());
            std::sort(want.begin(), want.end());
            if (got != want) {
                for (const auto& g : got)
                    qWarning("got:  %s", g.c_str());
                for (const auto& w : want)
                    qWarning("want: %s", w.c_str());
            }
            QVERIFY2(got == want, (c.fixture + " " + c.run).c_str());
        }
    }

    void everyFixtureDockerfileParses()
    {
        int count = 0;
        for (const auto& entry : fs::recursive_directory_iterator(v024())) {
            if (entry.path().filename() != "Dockerfile")
                continue;
            ++count;
            const std::string text = readFile(entry.path());
            BuildOptions opt;
            opt.resolveImage = fixtureImage;
            if (entry.path().string().find("06-multi-stage") != std::string::npos)
                opt.target = "final";
            try {
                const BuildPlan p = planBuild(parseDockerfile(text), opt);
                QVERIFY(!p.steps().empty());
            } catch (const Error& e) {
                QFAIL((entry.path().string() + ": " + e.what()).c_str());
            }
        }
        QVERIFY(count >= 18);
    }

    // Every RUN of the catalogue: meta.args, meta.env, meta.cwd and meta.user as BuildKit hashed them.
    void catalogueExecMetaMatchesKeys()
    {
        const std::map<std::string, BuildOptions> options = [] {
            std::map<std::string, BuildOptions> m;
            BuildOptions argEnv;
            argEnv.buildArgs = {{"OVERRIDDEN", "changed"}, {"NO_VALUE_SET", "given"}, {"UNDECLARED", "x"}};
            m["02-arg-env"] = argEnv;
            BuildOptions final;
            final.target = "final";
            m["06-multi-stage"] = final;
            return m;
        }();
        int checked = 0;
        for (const auto& entry : fs::directory_iterator(v024() / "catalogue")) {
            const fs::path keys = entry.path() / "keys.md";
            if (!fs::exists(keys))
                continue;
            const std::string name = entry.path().filename().string();
            BuildOptions opt = options.count(name) ? options.at(name) : BuildOptions{};
            opt.resolveImage = fixtureImage;
            const BuildPlan p = planBuild(parseDockerfile(readFile(entry.path() / "context/Dockerfile")), opt);

            // "### `[n]` L<line> `RUN …`" followed by a code block holding the exec op JSON.
            std::ifstream in(keys);
            std::string line;
            int currentLine = 0;
            while (std::getline(in, line)) {
                if (line.rfind("## onbuild/", 0) == 0)
                    break; // the second build in 09 has its own Dockerfile
                if (line.rfind("### ", 0) == 0) {
                    const auto l = line.find("` L");
                    currentLine = l == std::string::npos ? 0 : std::atoi(line.c_str() + l + 3);
                    continue;
                }
                if (line.rfind("{\"Type\":\"buildkit.exec.v0\"", 0) != 0 || currentLine == 0)
                    continue;
                const auto meta = nlohmann::json::parse(line)["Exec"]["meta"];
                const PlannedInstruction* pi = instructionAtLine(p, currentLine);
                QVERIFY2(pi, (name + " L" + std::to_string(currentLine)).c_str());
                const std::string where = name + " L" + std::to_string(currentLine);
                QVERIFY2(pi->runArgs == meta["args"].get<std::vector<std::string>>(), where.c_str());
                std::vector<std::string> env = pi->before.env.toStrings();
                for (const RunMount& m : pi->mounts)
                    if (m.type == MountType::Ssh)
                        env.push_back("SSH_AUTH_SOCK=/run/buildkit/ssh_agent.0");
                QVERIFY2(env == meta["env"].get<std::vector<std::string>>(), where.c_str());
                QVERIFY2(pi->before.cwd == meta["cwd"].get<std::string>(), where.c_str());
                QVERIFY2(pi->before.user.value_or("") == meta.value("user", std::string()), where.c_str());
                ++checked;
            }
        }
        QVERIFY2(checked >= 50, std::to_string(checked).c_str());
    }
};

QTEST_APPLESS_MAIN(TestDockerfileParser)
#include "test_dockerfile_parser.moc"
