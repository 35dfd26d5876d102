#include "exec/sandbox.h"

#include "base/files.h"
#include "exec/namespace_setup.h"
#include "exec/rooted_path.h"
#include "exec/ssh_agent_forwarder.h"
#include "exec/tree_copy.h"
#include "exec/unique_fd.h"
#include "exec/user_spec.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <deque>
#include <fcntl.h>
#include <grp.h>
#include <memory>
#include <poll.h>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace cachescope::exec {

namespace fs = std::filesystem;

std::string describeCommand(const std::vector<std::string>& args)
{
    std::string out;
    for (const auto& a : args) {
        if (!out.empty())
            out += ' ';
        out += a;
    }
    return out;
}

namespace {

// Docker's default capability set, which BuildKit gives a RUN as root.
constexpr const char* DefaultCaps[] = {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
                                       "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
                                       "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                                       "CAP_KILL",   "CAP_AUDIT_WRITE"};

std::string relOf(const std::string& target)
{
    return cleanEntryName(std::string_view(target).substr(target.find_first_not_of('/') == std::string::npos
                                                               ? target.size()
                                                               : target.find_first_not_of('/')));
}

UniqueFd memfdWith(const std::string& name, const std::string& data)
{
    UniqueFd fd(::memfd_create(name.c_str(), MFD_CLOEXEC));
    if (!fd.valid())
        throw Error(errnoMessage("memfd_create"));
    if (::write(fd.get(), data.data(), data.size()) != static_cast<ssize_t>(data.size()))
        throw Error(errnoMessage("memfd write"));
    ::lseek(fd.get(), 0, SEEK_SET);
    return fd;
}

UniqueFd openPath(const fs::path& p, const std::string& what)
{
    UniqueFd fd(::open(p.c_str(), O_PATH | O_CLOEXEC));
    if (!fd.valid())
        throw Error(what + ": " + errnoMessage(p.string()));
    return fd;
}

// Removes the per-run directory (secrets, copies of writable binds) whatever happens.
struct RunDir {
    fs::path path;
    ~RunDir()
    {
        std::error_code ec;
        if (!path.empty())
            fs::remove_all(path, ec);
    }
};

// Collects log output into lines for the callback and the tail.
class LineSplitter {
public:
    LineSplitter(const SandboxOptions& options, std::deque<std::string>& tail) : options_(options), tail_(tail) {}
    void feed(LogStream stream, const char* data, std::size_t size)
    {
        std::string& buf = stream == LogStream::Stdout ? out_ : err_;
        buf.append(data, size);
        std::size_t start = 0;
        for (std::size_t nl; (nl = buf.find('\n', start)) != std::string::npos; start = nl + 1)
            emit(stream, std::string_view(buf).substr(start, nl - start));
        buf.erase(0, start);
        if (buf.size() > 64 * 1024) { // a very long line: pass it on in pieces
            emit(stream, buf);
            buf.clear();
        }
    }
    void flush()
    {
        if (!out_.empty())
            emit(LogStream::Stdout, out_);
        if (!err_.empty())
            emit(LogStream::Stderr, err_);
        out_.clear();
        err_.clear();
    }

private:
    void emit(LogStream stream, std::string_view line)
    {
        if (options_.onLog)
            options_.onLog(stream, line);
        tail_.emplace_back(line);
        while (tail_.size() > options_.tailLines)
            tail_.pop_front();
    }
    const SandboxOptions& options_;
    std::deque<std::string>& tail_;
    std::string out_, err_;
};

} // namespace

RunResult runInSandbox(const ExecSpec& spec, const StepRoot& root, const SandboxOptions& options)
{
    const auto started = std::chrono::steady_clock::now();
    const std::string command = describeCommand(spec.args);
    const std::string context = "process \"" + command + "\"";
    if (spec.args.empty())
        throw Error("RUN: no command");
    if (::access(options.bwrap.c_str(), X_OK) != 0)
        throw Error(context + ": bubblewrap not found at " + options.bwrap.string());

    const bool engineIsRoot = ::geteuid() == 0;
    const bool overlay = root.usesOverlay();
    if (overlay && (root.mode() == SnapshotMode::Overlay) != engineIsRoot)
        throw Error(context + ": snapshot mode \"" + std::string(toString(root.mode())) + "\" does not fit a " +
                    (engineIsRoot ? "root" : "non-root") + " engine");

    // Files of the rootfs as the sandbox will see them, for /etc/passwd and mount stubs.
    RootFileReader readRootFile = [&](const std::string& rel) -> std::optional<std::string> {
        std::optional<fs::path> p;
        if (overlay) {
            p = SnapshotView(root.parent().with({root.upperDir(), WhiteoutFormat::Overlay})).find(rel);
        } else {
            fs::path e = RootedPath(root.rootfsDir()).resolveEntry(rel, false);
            if (!e.empty())
                p = e;
        }
        struct stat st {};
        if (!p || ::stat(p->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            return std::nullopt;
        return readFile(*p, 16 << 20);
    };
    ResolvedUser user;
    try {
        user = resolveUser(spec.user, readRootFile);
    } catch (const Error& e) {
        throw Error(context + ": " + e.what());
    }

    static std::atomic<unsigned> runCounter{0};
    RunDir runDir{root.dir() / ("run-" + std::to_string(::getpid()) + "-" + std::to_string(runCounter++))};
    fs::create_directories(runDir.path);
    ::chmod(runDir.path.c_str(), 0700);

    std::vector<UniqueFd> fds; // kept open until the child has exec'd
    auto keep = [&](UniqueFd fd) {
        int n = fd.get();
        fds.push_back(std::move(fd));
        return std::to_string(n);
    };

    NamespacePlan plan;
    plan.newUserNamespace = !engineIsRoot && overlay;
    plan.uidMap = "0 " + std::to_string(::geteuid()) + " 1";
    plan.gidMap = "0 " + std::to_string(::getegid()) + " 1";

    std::vector<std::string> argv = {options.bwrap.string(), "--die-with-parent", "--unshare-pid", "--unshare-ipc",
                                     "--unshare-uts", "--unshare-cgroup-try"};
    if (spec.network == NetworkMode::None)
        argv.push_back("--unshare-net");
    if (engineIsRoot && user.uid == 0) {
        for (const char* cap : DefaultCaps)
            argv.insert(argv.end(), {"--cap-add", cap});
    } else {
        argv.insert(argv.end(), {"--unshare-user", "--uid", std::to_string(user.uid), "--gid", std::to_string(user.gid)});
    }
    argv.insert(argv.end(), {"--hostname", spec.hostname});

    // The root: a placeholder fd the child replaces with the mounted overlay, or the copy.
    std::string rootFd;
    if (overlay) {
        UniqueFd placeholder = openPath("/", "placeholder");
        plan.overlays.push_back({root.mergedDir().string(), root.overlayOptions(), placeholder.get()});
        rootFd = keep(std::move(placeholder));
    } else {
        rootFd = keep(openPath(root.rootfsDir(), context));
    }
    argv.insert(argv.end(), {"--bind-fd", rootFd, "/", "--proc", "/proc", "--dev", "/dev"});

    std::string hostResolv;
    try {
        hostResolv = readFile("/etc/resolv.conf", 1 << 20);
    } catch (const Error&) {
    }
    argv.insert(argv.end(), {"--ro-bind-data", keep(memfdWith("hosts", makeHostsFile(spec.hostname, spec.extraHosts))),
                             "/etc/hosts"});
    argv.insert(argv.end(), {"--ro-bind-data",
                             keep(memfdWith("resolv.conf", makeResolvConf(hostResolv, spec.network != NetworkMode::None))),
                             "/etc/resolv.conf"});

    // Mount points: created by the child while still privileged (an unprivileged RUN user could
    // not create /etc/hosts), removed afterwards when the rootfs did not have them.
    struct MountPoint {
        std::string rel;
        bool file;
    };
    std::vector<MountPoint> mountPoints = {{"etc/hosts", true}, {"etc/resolv.conf", true}, {"proc", false}, {"dev", false}};
    std::vector<std::string> env = spec.env;
    std::vector<CacheMountLease> leases;
    std::vector<std::unique_ptr<SshAgentForwarder>> forwarders; // relay until the sandbox exits
    std::vector<std::string> pendingWarnings;                    // go to the step's log first
    int mountIndex = 0;
    for (const auto& m : spec.mounts) {
        ++mountIndex;
        if (const auto* b = std::get_if<BindMount>(&m)) {
            fs::path source = b->source;
            if (!b->readOnly) {
                // Writes to a writable bind are thrown away, as in BuildKit.
                fs::path base = runDir.path / ("bind-" + std::to_string(mountIndex));
                struct stat st {};
                if (::stat(source.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && overlay) {
                    for (const char* d : {"upper", "work", "merged"})
                        fs::create_directories(base / d);
                    UniqueFd placeholder = openPath("/", "placeholder");
                    plan.overlays.push_back({(base / "merged").string(),
                                             overlayOptions({source}, base / "upper", base / "work", plan.newUserNamespace),
                                             placeholder.get()});
                    argv.insert(argv.end(), {"--bind-fd", keep(std::move(placeholder)), b->target});
                } else {
                    fs::create_directories(base);
                    TreeCopier copier;
                    copier.copyTree(source, base / "copy");
                    copier.finish();
                    argv.insert(argv.end(), {"--bind-fd", keep(openPath(base / "copy", context)), b->target});
                }
            } else {
                argv.insert(argv.end(), {"--ro-bind-fd", keep(openPath(source, context + ": bind mount")), b->target});
            }
            struct stat sst {};
            mountPoints.push_back({relOf(b->target), ::stat(b->source.c_str(), &sst) == 0 && !S_ISDIR(sst.st_mode)});
        } else if (const auto* c = std::get_if<CacheMount>(&m)) {
            if (!options.cacheMounts)
                throw Error(context + ": cache mount " + c->target + " needs a cache mount store");
            leases.push_back(options.cacheMounts->acquire(c->id.empty() ? c->target : c->id, c->sharing, c->owner,
                                                          static_cast<mode_t>(c->mode)));
            argv.insert(argv.end(), {c->readOnly ? "--ro-bind-fd" : "--bind-fd",
                                     keep(openPath(leases.back().dir(), context + ": cache mount")), c->target});
            mountPoints.push_back({relOf(c->target), false});
        } else if (const auto* t = std::get_if<TmpfsMount>(&m)) {
            if (t->sizeBytes)
                argv.insert(argv.end(), {"--size", std::to_string(t->sizeBytes)});
            argv.insert(argv.end(), {"--tmpfs", t->target});
            mountPoints.push_back({relOf(t->target), false});
        } else if (const auto* s = std::get_if<SecretMount>(&m)) {
            std::string data;
            struct stat st {};
            if (s->data) {
                data = *s->data;
            } else if (!s->source.empty() && ::stat(s->source.c_str(), &st) == 0) {
                data = readFile(s->source, 500 * 1024); // BuildKit's secret size limit
            } else {
                if (s->required)
                    throw Error(context + ": secret \"" + s->id + "\" is required but " +
                                (s->source.empty() ? std::string("was not given (--secret id=" + s->id + ",src=FILE)")
                                                   : s->source.string() + " does not exist"));
                continue; // an optional secret that is missing is not mounted, as in BuildKit
            }
            if (!s->env.empty()) {
                env.push_back(s->env + "=" + data);
                if (s->target.empty())
                    continue;
            }
            std::string target = s->target.empty() ? "/run/secrets/" + s->id : s->target;
            // Outside the step's root: the file is bound in, never part of the step's diff.
            fs::path file = runDir.path / ("secret-" + std::to_string(mountIndex));
            writeFileAtomic(file, data);
            ::chmod(file.c_str(), s->mode);
            if (engineIsRoot)
                ::chown(file.c_str(), s->owner.uid, s->owner.gid);
            argv.insert(argv.end(), {"--ro-bind-fd", keep(openPath(file, context + ": secret")), target});
            mountPoints.push_back({relOf(target), true});
        } else if (const auto* a = std::get_if<SshMount>(&m)) {
            if (a->agentSocket.empty()) {
                const std::string why = "ssh mount \"" + a->id + "\" has no SSH agent (give --ssh " + a->id +
                                        "[=SOCKET]; the default socket is $SSH_AUTH_SOCK)";
                if (a->required)
                    throw Error(context + ": " + why);
                // Optional (BuildKit's default): the step runs without it, and its log says why.
                pendingWarnings.push_back("warning: " + why + "; the mount is skipped");
                continue;
            }
            try {
                forwarders.push_back(std::make_unique<SshAgentForwarder>(a->agentSocket, a->owner, a->mode));
            } catch (const Error& e) {
                throw Error(context + ": ssh mount \"" + a->id + "\": " + e.what());
            }
            argv.insert(argv.end(),
                        {"--bind-fd", keep(openPath(forwarders.back()->path(), context + ": ssh agent socket")), a->target});
            mountPoints.push_back({relOf(a->target), true});
        }
    }

    // Mount points missing from the rootfs will be created by bwrap; remember them to remove after.
    std::vector<std::string> stubs;
    {
        std::set<std::string> seen;
        for (const auto& mp : mountPoints) {
            std::string prefix;
            for (const auto& part : splitPath(mp.rel)) {
                prefix = prefix.empty() ? part : prefix + "/" + part;
                if (seen.insert(prefix).second && !root.exists(prefix))
                    stubs.push_back(prefix);
            }
        }
    }

    const std::string cwd = spec.cwd.empty() ? "/" : spec.cwd;
    std::vector<std::pair<std::vector<std::string>, bool>> toCreate; // path parts, is a file
    toCreate.push_back({splitPath(relOf(cwd)), false});
    for (const auto& mp : mountPoints)
        toCreate.push_back({splitPath(mp.rel), mp.file});
    argv.insert(argv.end(), {"--chdir", cwd, "--clearenv"});
    bool havePath = false;
    for (const auto& kv : env) {
        auto eq = kv.find('=');
        std::string key = kv.substr(0, eq);
        havePath = havePath || key == "PATH";
        argv.insert(argv.end(), {"--setenv", key, eq == std::string::npos ? "" : kv.substr(eq + 1)});
    }
    if (!havePath)
        argv.insert(argv.end(), {"--setenv", "PATH", DefaultPath});
    argv.push_back("--");
    argv.insert(argv.end(), spec.args.begin(), spec.args.end());

    // Everything the child needs, prepared before fork().
    std::vector<char*> cargv;
    for (auto& a : argv)
        cargv.push_back(a.data());
    cargv.push_back(nullptr);
    std::vector<int> inherit;
    for (const auto& fd : fds)
        inherit.push_back(fd.get());
    const int rootFdNumber = std::stoi(rootFd);
    std::vector<gid_t> groups(user.groups.begin(), user.groups.end());
    groups.insert(groups.begin(), user.gid);

    int outPipe[2], errPipe[2];
    if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0)
        throw Error(errnoMessage(context + ": pipe"));
    UniqueFd outRead(outPipe[0]), outWrite(outPipe[1]), errRead(errPipe[0]), errWrite(errPipe[1]);
    UniqueFd devNull(::open("/dev/null", O_RDONLY | O_CLOEXEC));

    pid_t pid = ::fork();
    if (pid < 0)
        throw Error(errnoMessage(context + ": fork"));
    if (pid == 0) {
        ::setsid();
        ::dup2(devNull.get(), 0);
        ::dup2(outWrite.get(), 1);
        ::dup2(errWrite.get(), 2);
        ::signal(SIGPIPE, SIG_DFL);
        if (!enterNamespaces(plan, 2))
            ::_exit(125);
        // cwd and mount points are created while still privileged, never following a link
        // (a link is left for bwrap, which resolves it inside the root).
        for (const auto& [parts, isFile] : toCreate) {
            int dir = ::fcntl(rootFdNumber, F_DUPFD_CLOEXEC, 0);
            for (std::size_t i = 0; i < parts.size() && dir >= 0; ++i) {
                const char* part = parts[i].c_str();
                if (i + 1 == parts.size() && isFile) {
                    int f = ::openat(dir, part, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
                    if (f >= 0)
                        ::close(f);
                    break;
                }
                ::mkdirat(dir, part, 0755);
                int next = ::openat(dir, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                ::close(dir);
                dir = next;
            }
            if (dir >= 0)
                ::close(dir);
        }
        for (int fd : inherit)
            ::fcntl(fd, F_SETFD, 0);
        if (engineIsRoot) {
            if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(user.gid) != 0 ||
                (user.uid != 0 && ::setuid(user.uid) != 0)) {
                writeChildError(2, "switching to the RUN user", errno);
                ::_exit(125);
            }
        }
        ::execv(cargv[0], cargv.data());
        writeChildError(2, "exec bwrap", errno);
        ::_exit(127);
    }
    outWrite.reset();
    errWrite.reset();
    fds.clear();

    std::deque<std::string> tail;
    LineSplitter lines(options, tail);
    for (const std::string& w : pendingWarnings) {
        const std::string line = w + "\n";
        lines.feed(LogStream::Stderr, line.data(), line.size());
    }
    bool cancelled = false;
    std::vector<char> buf(64 * 1024);
    while (outRead.valid() || errRead.valid()) {
        pollfd pfds[2];
        nfds_t n = 0;
        if (outRead.valid())
            pfds[n++] = {outRead.get(), POLLIN, 0};
        if (errRead.valid())
            pfds[n++] = {errRead.get(), POLLIN, 0};
        int r = ::poll(pfds, n, 100);
        if (!cancelled && options.cancel.stop_requested()) {
            cancelled = true;
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
        }
        if (r <= 0)
            continue;
        for (nfds_t i = 0; i < n; ++i) {
            if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t got = ::read(pfds[i].fd, buf.data(), buf.size());
            const bool isOut = pfds[i].fd == outRead.get();
            if (got <= 0) {
                (isOut ? outRead : errRead).reset();
                continue;
            }
            lines.feed(isOut ? LogStream::Stdout : LogStream::Stderr, buf.data(), static_cast<std::size_t>(got));
        }
    }
    lines.flush();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ::kill(-pid, SIGKILL); // anything that escaped bwrap's pid namespace

    leases.clear();
    forwarders.clear();
    // Deepest first, so parents become empty before their turn.
    for (auto it = stubs.rbegin(); it != stubs.rend(); ++it)
        root.removeStub(*it);

    RunResult result;
    result.tail.assign(tail.begin(), tail.end());
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    if (cancelled)
        throw Error(context + ": cancelled");
    result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (result.exitCode != 0) {
        std::string message =
            context + " did not complete successfully: exit code: " + std::to_string(result.exitCode);
        if (!result.tail.empty()) {
            message += "\nlast log lines:";
            for (const auto& l : result.tail)
                message += "\n  " + l;
        }
        throw ExecError(message, result.exitCode, result.tail);
    }
    return result;
}

} // namespace cachescope::exec
