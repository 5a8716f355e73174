package dev.bolero.runtime.guest;

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What {@code bolero-init} runs: the CONFIG message of the guest protocol.
 *
 * @param argv the workload's argv, at least one element; {@code argv[0]} without a {@code /} is looked up in the
 *     {@code PATH} of {@code env}
 * @param env the merged environment, {@code NAME=value} each
 * @param workdir the working directory inside the root
 * @param user {@code name}, {@code uid}, {@code name:group} or {@code uid:gid}, resolved in the image
 * @param hostname the guest's hostname
 * @param root the root drive's device in the guest ({@code /dev/vda})
 * @param ip {@code eth0}'s IPv4 address with prefix ({@code 10.210.0.5/24}); empty: only {@code lo} comes up
 * @param gateway the default route's IPv4 address; needs {@code ip}
 * @param dns name servers for the root's {@code /etc/resolv.conf}
 * @param search search domains for the root's {@code /etc/resolv.conf} (at most 6), e.g. {@code alpha.internal}
 * @param secrets secrets' values for the workload: variables (sent as {@code env} pairs after {@code env}, whose
 *     entry of the same name they replace) and files ({@code secret_file} pairs); at most one of each target. Never
 *     shown by {@link #toString()}
 * @param mounts block devices the guest mounts (ext4) before it runs the workload, found by serial (at most
 *     {@value #MAX_MOUNTS})
 * @param stdin what the workload's stdin is: {@code /dev/null}, a pipe, or (with stdout and stderr) a terminal
 * @throws IllegalArgumentException when a value is malformed, contains a NUL, or the message would exceed the
 *     protocol's 1 MiB frame limit
 */
public record GuestConfig(
        List<String> argv,
        List<String> env,
        String workdir,
        String user,
        String hostname,
        String root,
        Optional<String> ip,
        Optional<String> gateway,
        List<String> dns,
        List<String> search,
        List<GuestSecret> secrets,
        List<Mount> mounts,
        Stdin stdin) {

    /** The most {@link #mounts}. */
    public static final int MAX_MOUNTS = 8;
    private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
    private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
    private static final Pattern CIDR = Pattern.compile(IPV4.pattern() + "/(3[0-2]|[12]?[0-9])");
    private static final Pattern USER = Pattern.compile("[^:\\s]+(:[^:\\s]+)?");
    private static final Pattern NAMESERVER = Pattern.compile("[0-9A-Fa-f.:%a-z]+");
    private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?");

    public GuestConfig {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
        dns = List.copyOf(dns);
        search = List.copyOf(search);
        secrets = List.copyOf(secrets);
        mounts = List.copyOf(mounts);
        Objects.requireNonNull(workdir, "workdir");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(ip, "ip");
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(stdin, "stdin");
        if (argv.isEmpty()) throw new IllegalArgumentException("argv must not be empty");
        if (argv.getFirst().isEmpty()) throw new IllegalArgumentException("argv[0] must not be empty");
        for (String e : env) {
            if (e.indexOf('=') < 1) throw new IllegalArgumentException("env entry is not NAME=value: " + e);
        }
        if (!workdir.startsWith("/")) throw new IllegalArgumentException("workdir must be absolute: " + workdir);
        if (!USER.matcher(user).matches()) throw new IllegalArgumentException("user is not name[:group]: " + user);
        if (hostname.isEmpty() || hostname.length() > 64 || hostname.chars().anyMatch(c -> c <= ' ')) {
            throw new IllegalArgumentException("hostname must be 1-64 visible characters: " + hostname);
        }
        if (!root.startsWith("/dev/")) throw new IllegalArgumentException("root must be a /dev path: " + root);
        ip.filter(a -> !CIDR.matcher(a).matches()).ifPresent(a -> {
            throw new IllegalArgumentException("ip is not an IPv4 address with prefix: " + a);
        });
        gateway.filter(g -> !IPV4.matcher(g).matches()).ifPresent(g -> {
            throw new IllegalArgumentException("gateway is not an IPv4 address: " + g);
        });
        if (gateway.isPresent() && ip.isEmpty()) throw new IllegalArgumentException("gateway needs ip");
        for (String d : dns) {
            if (!NAMESERVER.matcher(d).matches()) throw new IllegalArgumentException("dns is not an address: " + d);
        }
        if (search.size() > 6) throw new IllegalArgumentException("at most 6 search domains, got " + search.size());
        for (String d : search) {
            if (!DOMAIN.matcher(d).matches()) throw new IllegalArgumentException("search is not a domain: " + d);
        }
        if (secrets.stream().map(GuestSecret::target).distinct().count() != secrets.size()) {
            throw new IllegalArgumentException("a secret's variable or file is given twice");
        }
        if (mounts.size() > MAX_MOUNTS) throw new IllegalArgumentException("at most 8 mounts, got " + mounts.size());
        if (encode(argv, env, workdir, user, hostname, root, ip, gateway, dns, search, secrets, mounts, stdin).length
                > FrameCodec.MAX_PAYLOAD) {
            throw new IllegalArgumentException("config exceeds the protocol's 1 MiB limit");
        }
    }

    /** A config whose workload's stdin is {@code /dev/null}. */
    public GuestConfig(List<String> argv, List<String> env, String workdir, String user, String hostname, String root,
                       Optional<String> ip, Optional<String> gateway, List<String> dns, List<String> search,
                       List<GuestSecret> secrets, List<Mount> mounts) {
        this(argv, env, workdir, user, hostname, root, ip, gateway, dns, search, secrets, mounts, Stdin.CLOSED);
    }

    /** A config without search domains. */
    public GuestConfig(List<String> argv, List<String> env, String workdir, String user, String hostname, String root,
                       Optional<String> ip, Optional<String> gateway, List<String> dns) {
        this(argv, env, workdir, user, hostname, root, ip, gateway, dns, List.of());
    }

    /** A config without secrets or mounts. */
    public GuestConfig(List<String> argv, List<String> env, String workdir, String user, String hostname, String root,
                       Optional<String> ip, Optional<String> gateway, List<String> dns, List<String> search) {
        this(argv, env, workdir, user, hostname, root, ip, gateway, dns, search, List.of(), List.of());
    }

    /** A config with no environment, workdir {@code /}, user {@code 0:0}, root {@code /dev/vda}, no network. */
    public static GuestConfig of(List<String> argv, String hostname) {
        return new GuestConfig(
                argv, List.of(), "/", "0:0", hostname, "/dev/vda", Optional.empty(), Optional.empty(), List.of());
    }

    /** The CONFIG payload: {@code key\0value\0} pairs. */
    public byte[] encode() {
        return encode(argv, env, workdir, user, hostname, root, ip, gateway, dns, search, secrets, mounts, stdin);
    }

    /**
     * The workload's stdin: CONFIG {@code stdin} and {@code tty}. Input reaches an open one through
     * {@link GuestSession#input}, and a terminal's size is set by {@link GuestSession#resize}.
     */
    public enum Stdin {
        /** {@code /dev/null}; stdout and stderr are pipes. */
        CLOSED,
        /** A pipe fed by {@link GuestSession#input} (an empty input closes it); stdout and stderr are pipes. */
        PIPE,
        /**
         * A pseudo-terminal of {@link #TERMINAL_SIZE} at first, the workload's controlling terminal and its stdin,
         * stdout and stderr: its output is all STDOUT, in the terminal's cooked form.
         */
        TERMINAL;

        /** The size of a workload's terminal until the host resizes it. */
        public static final TerminalSize TERMINAL_SIZE = new TerminalSize(24, 80);
    }

    /**
     * A block device the guest mounts: {@code mount} pairs {@code SERIAL:PATH} in the CONFIG payload.
     *
     * @param serial the device's virtio serial ({@code /sys/block/vdX/serial}), 1 to 20 of {@code A-Z a-z 0-9 _ -}
     * @param path where the guest mounts its ext4 file system (created if absent), an absolute path other than
     *     {@code /}; the file system is first grown to fill the device
     */
    public record Mount(String serial, String path) {
        public Mount {
            if (serial == null || !serial.matches("[A-Za-z0-9_-]{1,20}")) {
                throw new IllegalArgumentException("mount serial must be 1-20 of A-Z a-z 0-9 _ -, got " + serial);
            }
            if (path == null || !path.startsWith("/") || path.equals("/") || path.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("mount path must be absolute and not /, got " + path);
            }
        }
    }

    /** The config with the secrets shown by their targets only. */
    @Override
    public String toString() {
        return "GuestConfig[argv=" + argv + ", env=" + env + ", workdir=" + workdir + ", user=" + user + ", hostname="
                + hostname + ", root=" + root + ", ip=" + ip + ", gateway=" + gateway + ", dns=" + dns + ", search="
                + search + ", secrets=" + secrets.stream().map(GuestSecret::target).toList() + ", mounts=" + mounts
                + ", stdin=" + stdin + "]";
    }

    private static byte[] encode(
            List<String> argv,
            List<String> env,
            String workdir,
            String user,
            String hostname,
            String root,
            Optional<String> ip,
            Optional<String> gateway,
            List<String> dns,
            List<String> search,
            List<GuestSecret> secrets,
            List<Mount> mounts,
            Stdin stdin) {
        var out = new ByteArrayOutputStream();
        argv.forEach(a -> FrameCodec.pair(out, "arg", a));
        var secretVariables = new java.util.HashSet<String>();
        secrets.forEach(s -> {
            if (s instanceof GuestSecret.Variable v) secretVariables.add(v.name());
        });
        env.stream().filter(e -> !secretVariables.contains(e.substring(0, Math.max(0, e.indexOf('=')))))
                .forEach(e -> FrameCodec.pair(out, "env", e));
        for (GuestSecret s : secrets) {
            switch (s) {
                case GuestSecret.Variable v -> FrameCodec.pair(out, "env", v.name() + "=" + v.value());
                case GuestSecret.File f -> FrameCodec.pair(out, "secret_file", f.path() + "=" + f.value());
            }
        }
        FrameCodec.pair(out, "workdir", workdir);
        FrameCodec.pair(out, "user", user);
        FrameCodec.pair(out, "hostname", hostname);
        FrameCodec.pair(out, "root", root);
        ip.ifPresent(a -> FrameCodec.pair(out, "ip", a));
        gateway.ifPresent(g -> FrameCodec.pair(out, "gateway", g));
        dns.forEach(d -> FrameCodec.pair(out, "dns", d));
        search.forEach(d -> FrameCodec.pair(out, "search", d));
        mounts.forEach(m -> FrameCodec.pair(out, "mount", m.serial() + ":" + m.path()));
        switch (stdin) {
            case CLOSED -> { }
            case PIPE -> FrameCodec.pair(out, "stdin", "open");
            case TERMINAL -> FrameCodec.pair(out, "tty", Stdin.TERMINAL_SIZE.rows() + "x" + Stdin.TERMINAL_SIZE.cols());
        }
        return out.toByteArray();
    }
}
