import Foundation
import PatrolTestSupport
import Testing

/// The Debian packages `scripts/package.sh` makes, installed, upgraded to a newer version,
/// reinstalled, removed and purged in a throwaway root, with the files, owners, modes, users and
/// service state checked after each step, as a technician's `dpkg -i`/`apt` would leave them.
///
/// The packages hold the debug build (a release build takes too long for CI; `scripts/package.sh`
/// without `--binaries` packages the static release build the same way), and the newer version is
/// the same binaries under a higher version number.
@Suite(.serialized, .enabled(if: getuid() == 0, "installs into a throwaway root with mount and chroot, which needs root"))
struct PackageLifecycleTests {
    /// Both packages, in the version `package.sh` reads from the sources and a higher one.
    struct Packages: Sendable {
        let folder: String
        let version: String
        var newerVersion: String { version + "+upgrade" }

        func file(_ name: String, newer: Bool = false) throws -> String {
            let version = newer ? newerVersion : version
            let prefix = "\(name)_\(version)_"
            let folder = folder + (newer ? "/newer" : "/current")
            guard let file = try FileManager.default.contentsOfDirectory(atPath: folder).first(where: { $0.hasPrefix(prefix) }) else {
                throw PackagingFailure("no \(prefix)*.deb in \(folder)")
            }
            return folder + "/" + file
        }
    }

    /// Made once for the suite (each `package.sh` run strips and compresses both binaries), in the
    /// build folder beside the binaries, replaced by the next run.
    static let packages: Result<Packages, PackagingFailure> = Result {
        let binaries = URL(fileURLWithPath: BuiltExecutable.agent.path).deletingLastPathComponent().path
        let folder = binaries + "/test-packages"
        try? FileManager.default.removeItem(atPath: folder)
        try makePackages(binaries: binaries, out: folder + "/current")
        let built = try FileManager.default.contentsOfDirectory(atPath: folder + "/current")
        guard let agent = built.first(where: { $0.hasPrefix("patrol-agent_") }) else { throw PackagingFailure("package.sh made no agent package: \(built)") }
        let version = String(agent.split(separator: "_")[1])
        try makePackages(binaries: binaries, out: folder + "/newer", extra: ["--version", version + "+upgrade"])
        return Packages(folder: folder, version: version)
    }.mapError { PackagingFailure("\($0)") }

    static func makePackages(binaries: String, out: String, extra: [String] = []) throws {
        let script = Fixtures.repositoryRoot + "/scripts/package.sh"
        let process = try ChildProcess(script, ["--binaries", binaries, "--out", out, "--compression", "gzip", "--no-lintian"] + extra)
        guard process.waitForExitCode(timeout: 300) == 0 else {
            process.signal(SIGKILL)
            throw PackagingFailure("package.sh failed: \(process.output)")
        }
    }

    @Test func theAgentPackageInstallsUpgradesAndIsRemovedKeepingTheStoreUntilPurged() throws {
        let packages = try Self.packages.get()
        let root = try ThrowawayRoot()
        defer { root.remove() }

        // Install: the binary, unit, udev rules and conffile, the user in dialout, the store folder.
        try root.expectSuccess("dpkg -i \(try root.add(packages.file("patrol-agent")))")
        #expect(try root.packageState("patrol-agent") == "install ok installed \(packages.version)")
        #expect(try root.owners([
            "/usr/bin/patrol-agent", "/lib/systemd/system/patrol-agent.service", "/lib/udev/rules.d/99-patrollink.rules",
            "/etc/patrol-agent", "/etc/patrol-agent/agent.toml", "/var/lib/patrol-agent",
        ]) == [
            "/usr/bin/patrol-agent root:root 755", "/lib/systemd/system/patrol-agent.service root:root 644",
            "/lib/udev/rules.d/99-patrollink.rules root:root 644", "/etc/patrol-agent root:root 755",
            "/etc/patrol-agent/agent.toml root:root 644", "/var/lib/patrol-agent patrol:patrol 750",
        ])
        #expect(try root.run("id -nG patrol").output == "patrol dialout\n")
        #expect(try root.run("getent passwd patrol | cut -d: -f6,7").output == "/var/lib/patrol-agent:/usr/sbin/nologin\n")
        #expect(try root.run("patrol-agent --version").output.hasPrefix(packages.version + " ("))
        #expect(try root.isEnabled("patrol-agent"))
        #expect(try root.systemdCalls() == ["start patrol-agent.service"])
        // The packaged configuration refuses to run until the board's device id is set.
        let unset = try root.run("patrol-agent config check /etc/patrol-agent/agent.toml")
        #expect(unset.status == 78 && unset.output.contains("/etc/patrol-agent/agent.toml:6: device.id"), "\(unset.output)")

        // The technician sets the id; the agent has stored something.
        try root.expectSuccess("""
            sed -i 's/^id = ""/id = "car-7"/' /etc/patrol-agent/agent.toml
            patrol-agent config check /etc/patrol-agent/agent.toml
            echo stored > /var/lib/patrol-agent/agent.db && chown patrol:patrol /var/lib/patrol-agent/agent.db
            """)

        // Upgrade: configuration and store kept, the service restarted; then a reinstall of the same
        // version, which runs the maintainer scripts again over what they made.
        try root.expectSuccess("dpkg -i \(try root.add(packages.file("patrol-agent", newer: true)))")
        try root.expectSuccess("dpkg -i \(try root.add(packages.file("patrol-agent", newer: true)))")
        #expect(try root.packageState("patrol-agent") == "install ok installed \(packages.newerVersion)")
        #expect(try root.run("grep '^id = ' /etc/patrol-agent/agent.toml").output.hasPrefix("id = \"car-7\""))
        #expect(try root.run("cat /var/lib/patrol-agent/agent.db").output == "stored\n")
        #expect(try root.owners(["/var/lib/patrol-agent", "/var/lib/patrol-agent/agent.db"])
                == ["/var/lib/patrol-agent patrol:patrol 750", "/var/lib/patrol-agent/agent.db patrol:patrol 644"])
        #expect(try root.run("grep -c '^patrol:' /etc/passwd").output == "1\n")
        #expect(try root.systemdCalls() == ["start patrol-agent.service", "restart patrol-agent.service", "restart patrol-agent.service"])

        // Remove: the program goes and the service stops; configuration and store stay.
        try root.expectSuccess("dpkg -r patrol-agent")
        #expect(try root.packageState("patrol-agent") == "deinstall ok config-files \(packages.newerVersion)")
        #expect(try root.owners(["/usr/bin/patrol-agent", "/lib/systemd/system/patrol-agent.service", "/etc/patrol-agent/agent.toml",
                                 "/var/lib/patrol-agent/agent.db"])
                == ["/usr/bin/patrol-agent missing", "/lib/systemd/system/patrol-agent.service missing",
                    "/etc/patrol-agent/agent.toml root:root 644", "/var/lib/patrol-agent/agent.db patrol:patrol 644"])
        #expect(try root.systemdCalls().last == "stop patrol-agent.service")

        // Purge: configuration, store and the service's enablement go; the system user stays.
        try root.expectSuccess("dpkg -P patrol-agent")
        #expect(try root.packageState("patrol-agent") == "not installed")
        #expect(try root.owners(["/etc/patrol-agent", "/var/lib/patrol-agent"]) == ["/etc/patrol-agent missing", "/var/lib/patrol-agent missing"])
        #expect(try !root.isEnabled("patrol-agent"))
        #expect(try root.run("getent passwd patrol").status == 0)
    }

    @Test func theCentrePackageInstallsUpgradesAndIsRemovedKeepingTheDatabaseUntilPurged() throws {
        let packages = try Self.packages.get()
        let root = try ThrowawayRoot()
        defer { root.remove() }

        try root.expectSuccess("dpkg -i \(try root.add(packages.file("patrol-centre")))")
        #expect(try root.packageState("patrol-centre") == "install ok installed \(packages.version)")
        #expect(try root.owners([
            "/usr/bin/patrol-centre", "/lib/systemd/system/patrol-centre.service", "/etc/patrol-centre/centre.toml",
            "/etc/patrol-centre/tls", "/var/lib/patrol-centre",
        ]) == [
            "/usr/bin/patrol-centre root:root 755", "/lib/systemd/system/patrol-centre.service root:root 644",
            "/etc/patrol-centre/centre.toml root:root 644", "/etc/patrol-centre/tls root:patrol-centre 750",
            "/var/lib/patrol-centre patrol-centre:patrol-centre 750",
        ])
        // Its own user, in no other group: the centre needs no serial device.
        #expect(try root.run("id -nG patrol-centre").output == "patrol-centre\n")
        #expect(try root.run("patrol-centre --version").output.hasPrefix(packages.version + " ("))
        #expect(try root.run("grep -E '^(certificate|private_key|database) ' /etc/patrol-centre/centre.toml").output.contains(
            "certificate = \"/etc/patrol-centre/tls/fullchain.pem\""))
        #expect(try root.isEnabled("patrol-centre"))
        #expect(try root.systemdCalls() == ["start patrol-centre.service"])

        try root.expectSuccess("""
            printf 'key' > /etc/patrol-centre/tls/privkey.pem && chgrp patrol-centre /etc/patrol-centre/tls/privkey.pem
            echo stored > /var/lib/patrol-centre/centre.db && chown patrol-centre:patrol-centre /var/lib/patrol-centre/centre.db
            """)
        try root.expectSuccess("dpkg -i \(try root.add(packages.file("patrol-centre", newer: true)))")
        #expect(try root.packageState("patrol-centre") == "install ok installed \(packages.newerVersion)")
        #expect(try root.owners(["/etc/patrol-centre/tls", "/etc/patrol-centre/tls/privkey.pem", "/var/lib/patrol-centre/centre.db"])
                == ["/etc/patrol-centre/tls root:patrol-centre 750", "/etc/patrol-centre/tls/privkey.pem root:patrol-centre 644",
                    "/var/lib/patrol-centre/centre.db patrol-centre:patrol-centre 644"])
        #expect(try root.systemdCalls() == ["start patrol-centre.service", "restart patrol-centre.service"])

        try root.expectSuccess("dpkg -r patrol-centre")
        #expect(try root.owners(["/usr/bin/patrol-centre", "/etc/patrol-centre/centre.toml", "/var/lib/patrol-centre/centre.db"])
                == ["/usr/bin/patrol-centre missing", "/etc/patrol-centre/centre.toml root:root 644",
                    "/var/lib/patrol-centre/centre.db patrol-centre:patrol-centre 644"])
        #expect(try root.systemdCalls().last == "stop patrol-centre.service")

        // Purge deletes the database and the configuration dpkg installed; the administrator's own
        // TLS files are theirs to delete, and keep their folder.
        try root.expectSuccess("dpkg -P patrol-centre")
        #expect(try root.packageState("patrol-centre") == "not installed")
        #expect(try root.owners(["/etc/patrol-centre/centre.toml", "/etc/patrol-centre/tls/privkey.pem", "/var/lib/patrol-centre"])
                == ["/etc/patrol-centre/centre.toml missing", "/etc/patrol-centre/tls/privkey.pem root:patrol-centre 644",
                    "/var/lib/patrol-centre missing"])
        #expect(try !root.isEnabled("patrol-centre"))
    }
}

/// A throwaway copy of this machine's root file system to install packages into: an overlay whose
/// lower layer is the real `/` (never written) and whose upper layer is a temporary folder, mounted
/// for each command in a private mount namespace (`unshare --mount`, gone when the command ends)
/// and entered with chroot. dpkg, adduser, deb-systemd-helper, systemctl's offline `--root` mode
/// (unit enablement links) and the maintainer scripts are the real ones; what they change (users,
/// dpkg's database, files) lands in the upper folder and is deleted with it.
///
/// Not real: systemd does not run on this machine. The root says it does (`/run/systemd/system`
/// exists) so that the maintainer scripts take the path they take on a board, and
/// `deb-systemd-invoke` and `systemctl` (other than `--root`) only record in
/// `/var/log/systemd-calls` what they were asked to do.
struct ThrowawayRoot {
    let folder: TemporaryDirectory
    private var upper: String { folder.path + "/upper" }

    init() throws {
        folder = try TemporaryDirectory(prefix: "patrol-root")
        for path in ["upper", "work", "merged", "upper/packages", "upper/run/systemd/system", "upper/usr/local/sbin"] {
            try FileManager.default.createDirectory(atPath: folder.path + "/" + path, withIntermediateDirectories: true)
        }
        let recorder = """
            #!/bin/sh
            case "$*" in *--root*) exec /usr/bin/systemctl "$@" ;; esac
            echo "$*" >> /var/log/systemd-calls
            """
        for name in ["deb-systemd-invoke", "systemctl"] {
            let path = upper + "/usr/local/sbin/" + name
            try recorder.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
    }

    func remove() { folder.remove() }

    /// Copies `file` into the root and returns its path there.
    func add(_ file: String) throws -> String {
        let name = "/packages/" + URL(fileURLWithPath: file).lastPathComponent
        if !FileManager.default.fileExists(atPath: upper + name) { try FileManager.default.copyItem(atPath: file, toPath: upper + name) }
        return name
    }

    /// Runs `script` with sh inside the root; returns its exit status and output (stdout, stderr).
    func run(_ script: String) throws -> (status: Int32?, output: String) {
        let merged = folder.path + "/merged"
        let enter = """
            mount -t overlay overlay -o lowerdir=/,upperdir=\(upper),workdir=\(folder.path)/work \(merged) &&
            mount --bind /dev \(merged)/dev && mount -t proc proc \(merged)/proc &&
            exec chroot \(merged) /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin sh -c "$0"
            """
        let process = try ChildProcess("unshare", ["--mount", "--propagation", "private", "sh", "-c", enter, script])
        let status = process.waitForExitCode(timeout: 120)
        if status == nil { process.signal(SIGKILL) }
        return (status, process.output)
    }

    func expectSuccess(_ script: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try run(script)
        #expect(result.status == 0, "\(script)\n\(result.output)", sourceLocation: sourceLocation)
    }

    /// dpkg's state and version of `package`, or "not installed".
    func packageState(_ package: String) throws -> String {
        let result = try run("dpkg-query -W -f='${Status} ${Version}' \(package) 2>/dev/null || echo 'not installed'")
        return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// "path user:group mode" for each path, or "path missing".
    func owners(_ paths: [String]) throws -> [String] {
        let script = paths.map { "if [ -e \($0) ]; then stat -c '%n %U:%G %a' \($0); else echo '\($0) missing'; fi" }
        return try run(script.joined(separator: "\n")).output.split(separator: "\n").map(String.init)
    }

    /// Whether multi-user.target wants the service (what `systemctl enable` leaves).
    func isEnabled(_ package: String) throws -> Bool {
        try run("test -L /etc/systemd/system/multi-user.target.wants/\(package).service").status == 0
    }

    /// What the maintainer scripts asked of the (absent) running systemd: start, restart, stop.
    func systemdCalls() throws -> [String] {
        try run("cat /var/log/systemd-calls 2>/dev/null").output.split(separator: "\n").map(String.init)
            .filter { !$0.contains("daemon-reload") }
            .map { $0.replacingOccurrences(of: "deb-systemd-invoke ", with: "") }
    }
}

struct PackagingFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
