package dev.bolero.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A machine's desired configuration: complete (defaults filled in), validated and immutable. It is what both APIs show
 * as a machine's {@code config}, what the stores keep, what a node receives in its assignments, and what the node's
 * runner derives the guest's configuration and the VMM's command line from.
 *
 * <p>Partial configurations — a fleet's config, a create's {@code config}, the cluster's defaults — are
 * {@link Overlay}s, combined by {@link Overlay#over}, the one merge rule, and turned into a spec by
 * {@link Overlay#toSpec}.
 *
 * <p>Every rule is checked here, with the field's path as the API nests it: {@code config.guest.cpus must be between 1
 * and 64, got 0}, {@code config.services[1].internal_port is required}. The parts ({@link Guest}, {@link Stop}, …)
 * state their rules in their {@code check} methods and are checked by the spec or overlay that holds them.
 *
 * @param image the image the machine runs
 * @param guest virtual hardware
 * @param init overrides of the image's entrypoint, cmd, workdir and user
 * @param env merged over the image's Env; names without {@code =} or NUL, values without NUL
 * @param restart when the workload is restarted after it ends on its own (default: never)
 * @param autoDestroy whether the machine is deleted when its run ends and no restart applies (default false)
 * @param stop the signal and timeout a stop uses when its request names none (default SIGTERM, 10 s)
 * @param network network options (default: egress on)
 * @param services ports published on the node; a protocol and port at most once
 * @param driver the VMM the machine must run under; null: any the node has
 * @param metadata the owner's labels of the machine, shown with it and kept by its node: keys of 1 to 63 of
 *     {@code a-z 0-9 _ . -}, values of at most 512 bytes (UTF-8)
 * @param checks the workload's health checks by name (names as metadata keys, at most 16); a set field replaces the
 *     whole map in an overlay, as {@code services} does
 * @param secrets secrets of the machine's namespace given to its workload, each as a variable or a file
 *     ({@link Secret}); a set field replaces the whole list in an overlay, as {@code services} does
 * @param mounts the namespace's volumes the guest mounts, each at its own path (at most {@value Mount#MAX_MOUNTS});
 *     a volume at most once; replaced whole in an overlay. The machine runs on the node its volumes live on
 * @param httpService how the cluster's gateway serves the machine's fleet over HTTP(S); null: it does not
 * @param warmStart whether the machine starts from its node's template of its image and config (a snapshot taken once
 *     the workload of an earlier machine like it was up) instead of booting, and leaves one when the node has none
 *     (default false). Not with {@code secrets} or {@code mounts}: a template's memory would hold them
 * @throws ValidationException naming the first illegal field
 */
public record MachineSpec(
        ImageRef image,
        Guest guest,
        Init init,
        Map<String, String> env,
        Restart restart,
        boolean autoDestroy,
        Stop stop,
        Network network,
        List<Service> services,
        Driver driver,
        Map<String, String> metadata,
        Map<String, Check> checks,
        List<Secret> secrets,
        List<Mount> mounts,
        HttpService httpService,
        boolean warmStart) {

    public MachineSpec {
        FieldPath.CONFIG.field("image").required(image);
        guest = (guest == null ? Guest.DEFAULTS : guest).filled();
        init = init == null ? Init.NONE : init;
        env = env == null ? Map.of() : sorted(env);
        restart = (restart == null ? Restart.NEVER : restart).filled();
        stop = (stop == null ? Stop.DEFAULTS : stop).filled();
        network = (network == null ? Network.DEFAULTS : network).filled();
        services = services == null ? List.of() : List.copyOf(services);
        metadata = metadata == null ? Map.of() : sorted(metadata);
        checks = checks == null ? Map.of() : Check.filled(checks);
        secrets = secrets == null ? List.of() : Secret.copy(secrets);
        mounts = mounts == null ? List.of() : List.copyOf(mounts);
        check(FieldPath.CONFIG, guest, init, env, restart, stop, services, metadata, checks, secrets);
        Mount.checkAll(FieldPath.CONFIG.field("mounts"), mounts);
        if (httpService != null) httpService.check(FieldPath.CONFIG.field("http_service"));
        if (warmStart && !secrets.isEmpty()) {
            throw FieldPath.CONFIG.field("warm_start").invalid("cannot be true with secrets: a template's memory would "
                    + "hold them");
        }
        if (warmStart && !mounts.isEmpty()) {
            throw FieldPath.CONFIG.field("warm_start").invalid("cannot be true with mounts: a template's memory would "
                    + "hold the state of volumes it cannot share");
        }
    }

    /** A builder with every field unset: {@link Builder#build} fills the defaults and needs an image. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder of a spec running {@code image}. */
    public static Builder builder(String image) {
        return new Builder().image(image);
    }

    /** This spec as an overlay: every field set. */
    public Overlay overlay() {
        return new Overlay(image, guest, init, env, restart, autoDestroy, stop, network, services, driver,
                metadata, checks, secrets, mounts, httpService, warmStart);
    }

    /**
     * This spec without its published ports: a fork's clone's config (the ports on the node stay the source's; a
     * clone is reached on its own address).
     */
    public MachineSpec withoutServices() {
        return new MachineSpec(image, guest, init, env, restart, autoDestroy, stop, network, List.of(), driver,
                metadata, checks, secrets, mounts, httpService, warmStart);
    }

    /** Checks the parts that are present (null: absent) at {@code at}; shared by specs and overlays. */
    private static void check(FieldPath at, Guest guest, Init init, Map<String, String> env, Restart restart,
                              Stop stop, List<Service> services, Map<String, String> metadata,
                              Map<String, Check> checks, List<Secret> secrets) {
        if (guest != null) guest.check(at.field("guest"));
        if (init != null) init.check(at.field("init"));
        if (env != null) checkEnv(at.field("env"), env);
        if (restart != null) restart.check(at.field("restart"));
        if (stop != null) stop.check(at.field("stop"));
        if (services != null) Service.checkAll(at.field("services"), services);
        if (metadata != null) checkMetadata(at.field("metadata"), metadata);
        if (checks != null) Check.checkAll(at.field("checks"), checks);
        if (secrets != null) Secret.checkAll(at.field("secrets"), secrets, env);
    }

    private static void checkMetadata(FieldPath at, Map<String, String> metadata) {
        metadata.forEach((k, v) -> {
            checkKey(at, k);
            if (at.field(k).required(v).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 512) {
                throw at.field(k).invalid("must be at most 512 bytes");
            }
        });
    }

    private static final Pattern KEY = Pattern.compile("[a-z0-9_.-]{1,63}");

    /** Checks a key of metadata or a check's name: 1 to 63 of {@code a-z 0-9 _ . -}. */
    private static void checkKey(FieldPath at, String key) {
        if (!KEY.matcher(key).matches()) throw at.invalid("key '" + key + "' must be 1-63 of a-z 0-9 _ . -");
    }

    /** Checks environment variables: names without {@code =} or NUL, values present without NUL. */
    public static void checkEnv(FieldPath at, Map<String, String> env) {
        env.forEach((k, v) -> {
            if (k.isEmpty() || k.contains("=") || k.indexOf('\0') >= 0) {
                throw at.invalid("name '" + k + "' is not a valid variable name");
            }
            if (v == null || v.indexOf('\0') >= 0) {
                throw at.field(k).invalid("must be a string without NUL characters");
            }
        });
    }

    private static Map<String, String> sorted(Map<String, String> map) {
        var copy = new TreeMap<String, String>();
        map.forEach((k, v) -> {
            if (k == null) throw new ValidationException("a map key must not be null");
            copy.put(k, v);
        });
        return Collections.unmodifiableMap(copy);
    }

    /**
     * A partial machine configuration: a fleet's config, a create's {@code config}, defaults. A null field is unset.
     *
     * <p>The merge rule ({@link #over}): a field set here replaces {@code base}'s whole field (a {@code guest} here
     * replaces the base's {@code guest}, {@code services} replaces {@code services}, {@code secrets} replaces
     * {@code secrets}, {@code mounts} replaces {@code mounts}), except the maps ({@code env}
     * and {@code metadata}), merged key by key with this overlay's values winning. The rule is associative, and
     * {@link #EMPTY} is its identity on both sides.
     *
     * @throws ValidationException naming the first illegal field that is set
     */
    public record Overlay(
            ImageRef image,
            Guest guest,
            Init init,
            Map<String, String> env,
            Restart restart,
            Boolean autoDestroy,
            Stop stop,
            Network network,
            List<Service> services,
            Driver driver,
            Map<String, String> metadata,
            Map<String, Check> checks,
            List<Secret> secrets,
            List<Mount> mounts,
            HttpService httpService,
            Boolean warmStart) {

        /** Nothing set. */
        public static final Overlay EMPTY = new Builder().overlay();

        public Overlay {
            env = env == null ? null : sorted(env);
            services = services == null ? null : List.copyOf(services);
            metadata = metadata == null ? null : sorted(metadata);
            checks = checks == null ? null : Collections.unmodifiableMap(new TreeMap<>(checks));
            secrets = secrets == null ? null : Secret.copy(secrets);
            check(FieldPath.CONFIG, guest, init, env, restart, stop, services, metadata, checks, secrets);
            if (mounts != null) {
                mounts = List.copyOf(mounts);
                Mount.checkAll(FieldPath.CONFIG.field("mounts"), mounts);
            }
            if (httpService != null) httpService.check(FieldPath.CONFIG.field("http_service"));
        }

        /** This overlay's fields over {@code base}'s, as the class comment states. */
        public Overlay over(Overlay base) {
            return new Overlay(or(image, base.image), or(guest, base.guest), or(init, base.init),
                    merged(env, base.env), or(restart, base.restart), or(autoDestroy, base.autoDestroy),
                    or(stop, base.stop), or(network, base.network), or(services, base.services),
                    or(driver, base.driver), merged(metadata, base.metadata), or(checks, base.checks),
                    or(secrets, base.secrets), or(mounts, base.mounts), or(httpService, base.httpService),
                    or(warmStart, base.warmStart));
        }

        /**
         * The complete spec: unset fields take their defaults.
         *
         * @throws ValidationException ({@code config.image is required}) when no image is set
         */
        public MachineSpec toSpec() {
            return new MachineSpec(image, guest, init, env, restart, Boolean.TRUE.equals(autoDestroy), stop, network,
                    services, driver, metadata, checks, secrets, mounts, httpService, Boolean.TRUE.equals(warmStart));
        }

        private static <T> T or(T value, T base) {
            return value != null ? value : base;
        }

        private static Map<String, String> merged(Map<String, String> top, Map<String, String> base) {
            if (top == null || base == null) return or(top, base);
            var merged = new TreeMap<>(base);
            merged.putAll(top);
            return merged;
        }
    }

    /**
     * Builds a {@link MachineSpec} or an {@link Overlay}; every field starts unset. Not thread-safe.
     */
    public static final class Builder {
        private ImageRef image;
        private Guest guest;
        private Init init;
        private Map<String, String> env;
        private Restart restart;
        private Boolean autoDestroy;
        private Stop stop;
        private Network network;
        private List<Service> services;
        private Driver driver;
        private Map<String, String> metadata;
        private Map<String, Check> checks;
        private List<Secret> secrets;
        private List<Mount> mounts;
        private HttpService httpService;
        private Boolean warmStart;

        private Builder() {}

        public Builder image(String image) {
            this.image = image == null ? null : ImageRef.of(image);
            return this;
        }

        public Builder guest(Guest guest) {
            this.guest = guest;
            return this;
        }

        /** Sets {@code guest} to this many vCPUs and MiB, the root file system as the image's. */
        public Builder guest(int cpus, int memoryMb) {
            return guest(new Guest(cpus, memoryMb, null));
        }

        public Builder init(Init init) {
            this.init = init;
            return this;
        }

        public Builder env(Map<String, String> env) {
            this.env = env == null ? null : new LinkedHashMap<>(env);
            return this;
        }

        /** Adds one variable to {@code env}. */
        public Builder env(String name, String value) {
            env = with(env, name, value);
            return this;
        }

        public Builder restart(Restart restart) {
            this.restart = restart;
            return this;
        }

        public Builder autoDestroy(Boolean autoDestroy) {
            this.autoDestroy = autoDestroy;
            return this;
        }

        public Builder stop(Stop stop) {
            this.stop = stop;
            return this;
        }

        public Builder network(Network network) {
            this.network = network;
            return this;
        }

        public Builder services(List<Service> services) {
            this.services = services == null ? null : new ArrayList<>(services);
            return this;
        }

        /** Adds one published port to {@code services}. */
        public Builder service(Service service) {
            if (services == null) services = new ArrayList<>();
            services.add(service);
            return this;
        }

        public Builder driver(Driver driver) {
            this.driver = driver;
            return this;
        }

        public Builder metadata(Map<String, String> metadata) {
            this.metadata = metadata == null ? null : new LinkedHashMap<>(metadata);
            return this;
        }

        /** Adds one entry to {@code metadata}. */
        public Builder metadata(String key, String value) {
            metadata = with(metadata, key, value);
            return this;
        }

        public Builder checks(Map<String, Check> checks) {
            this.checks = checks == null ? null : new LinkedHashMap<>(checks);
            return this;
        }

        /** Adds one health check to {@code checks}. */
        public Builder check(String name, Check check) {
            checks = with(checks, name, check);
            return this;
        }

        public Builder secrets(List<Secret> secrets) {
            this.secrets = secrets == null ? null : new ArrayList<>(secrets);
            return this;
        }

        /** Adds one secret to {@code secrets}. */
        public Builder secret(Secret secret) {
            if (secrets == null) secrets = new ArrayList<>();
            secrets.add(secret);
            return this;
        }

        public Builder mounts(List<Mount> mounts) {
            this.mounts = mounts == null ? null : new ArrayList<>(mounts);
            return this;
        }

        public Builder httpService(HttpService httpService) {
            this.httpService = httpService;
            return this;
        }

        public Builder warmStart(Boolean warmStart) {
            this.warmStart = warmStart;
            return this;
        }

        /** Adds one mount to {@code mounts}. */
        public Builder mount(String volume, String path) {
            if (mounts == null) mounts = new ArrayList<>();
            mounts.add(new Mount(volume, path));
            return this;
        }

        private static <V> Map<String, V> with(Map<String, V> map, String key, V value) {
            var with = map == null ? new LinkedHashMap<String, V>() : map;
            with.put(key, value);
            return with;
        }

        /** The overlay of the fields set so far. */
        public Overlay overlay() {
            return new Overlay(image, guest, init, env, restart, autoDestroy, stop, network, services, driver,
                metadata, checks, secrets, mounts, httpService, warmStart);
        }

        /** The spec: the fields set so far, defaults for the others. */
        public MachineSpec build() {
            return overlay().toSpec();
        }
    }

    /**
     * The virtual hardware of a machine; a null field is unset (its default in a spec).
     *
     * @param cpus vCPUs, 1 to 64 (default 1)
     * @param memoryMb guest RAM in MiB, 64 to 65536 (default 256)
     * @param rootfsMb the size in MiB of the machine's root file system, 64 to 1048576; null (the default) for the
     *     image's root drive as built (its files plus the node's free space). A machine asking for more gets a larger
     *     private view of the shared drive, grown when it boots; less than the image's drive fails the machine.
     */
    public record Guest(Integer cpus, Integer memoryMb, Integer rootfsMb) {
        public static final int DEFAULT_CPUS = 1;
        public static final int DEFAULT_MEMORY_MB = 256;
        static final Guest DEFAULTS = new Guest(null, null, null);

        Guest filled() {
            return new Guest(cpus == null ? DEFAULT_CPUS : cpus, memoryMb == null ? DEFAULT_MEMORY_MB : memoryMb,
                    rootfsMb);
        }

        void check(FieldPath at) {
            at.field("cpus").between(cpus, 1, 64);
            at.field("memory_mb").between(memoryMb, 64, 65536);
            at.field("rootfs_mb").between(rootfsMb, 64, 1048576);
        }
    }

    /**
     * What to run instead of the image's configuration; a null field keeps the image's value.
     *
     * @param entrypoint replaces the image's Entrypoint (and, as with Docker, drops the image's Cmd unless {@code cmd}
     *     is given too)
     * @param cmd replaces the image's Cmd
     * @param workdir replaces the image's WorkingDir; absolute
     * @param user replaces the image's User: {@code name}, {@code uid}, {@code name:group} or {@code uid:gid}
     * @param tty true: the workload runs on a pseudo-terminal (its stdin, stdout and stderr; output all on stdout),
     *     which a client attached to the machine types into and resizes, as {@code docker run -t}
     * @param stdin true: the workload's stdin is open for an attached client's input, as {@code docker run -i}
     *     (without {@code tty}: a pipe that ends when the client closes it); absent or false: {@code /dev/null}
     */
    public record Init(List<String> entrypoint, List<String> cmd, String workdir, String user, Boolean tty,
            Boolean stdin) {
        static final Init NONE = new Init(null, null, null, null);

        public Init {
            entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
            cmd = cmd == null ? null : List.copyOf(cmd);
        }

        /** What to run, with stdin closed and no terminal. */
        public Init(List<String> entrypoint, List<String> cmd, String workdir, String user) {
            this(entrypoint, cmd, workdir, user, null, null);
        }

        /** Whether the workload runs on a terminal ({@code tty}). */
        public boolean onTerminal() {
            return Boolean.TRUE.equals(tty);
        }

        /** Whether the workload's stdin is open for input ({@code stdin}, or {@code tty}: a terminal takes input). */
        public boolean stdinOpen() {
            return Boolean.TRUE.equals(stdin) || onTerminal();
        }

        void check(FieldPath at) {
            if (workdir != null && !workdir.startsWith("/")) {
                throw at.field("workdir").invalid("must be an absolute path, got '" + workdir + "'");
            }
            if (user != null && !user.matches("[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?")) {
                throw at.field("user").invalid("must be name, uid, name:group or uid:gid, got '" + user + "'");
            }
        }
    }

    /**
     * When the node restarts a machine whose workload ended on its own (not stopped by request, not deleted), or whose
     * health checks keep failing. In a cluster, the control plane also follows it when the machine's node is lost or
     * drained: {@code on-failure} and {@code always} move the machine to another node, {@code no} leaves it where it
     * was.
     *
     * @param policy {@code no} (default), {@code on-failure} (a non-zero exit code or a failed run) or {@code always}
     * @param maxRetries automatic restarts allowed in a row, 0 to 1000; absent: unlimited. A start by request resets
     *     the count. Restarts for failing checks count too.
     * @param onCheckFailure whether a machine whose health check fails {@code failuresBeforeRestart} times in a row is
     *     restarted (default true; it matters only for a machine with checks). Such a restart happens whatever the
     *     policy, within {@code maxRetries}.
     * @param failuresBeforeRestart consecutive failures of one check that restart the machine, 1 to 100 (default 3)
     */
    public record Restart(String policy, Integer maxRetries, Boolean onCheckFailure, Integer failuresBeforeRestart) {
        public static final List<String> POLICIES = List.of("no", "on-failure", "always");
        public static final int DEFAULT_FAILURES_BEFORE_RESTART = 3;
        /** No restarts on exit; restarts on failing checks, as by default. */
        public static final Restart NEVER = new Restart("no", null);

        /** A policy with the check-failure fields at their defaults. */
        public Restart(String policy, Integer maxRetries) {
            this(policy, maxRetries, null, null);
        }

        Restart filled() {
            return new Restart(policy == null ? "no" : policy, maxRetries, onCheckFailure == null || onCheckFailure,
                    failuresBeforeRestart == null ? DEFAULT_FAILURES_BEFORE_RESTART : failuresBeforeRestart);
        }

        void check(FieldPath at) {
            at.field("policy").oneOf(policy, POLICIES);
            at.field("max_retries").between(maxRetries, 0, 1000);
            at.field("failures_before_restart").between(failuresBeforeRestart, 1, 100);
        }

        /** Whether the policy ever restarts or moves a machine (it is not {@code no}). */
        public boolean any() {
            return policy != null && !policy.equals("no");
        }

        /**
         * Whether a run that ended this way is restarted after {@code restartsSoFar} automatic restarts.
         *
         * @param failed whether the run failed or the workload exited with a non-zero code
         */
        public boolean restarts(boolean failed, int restartsSoFar) {
            boolean wanted = switch (policy == null ? "no" : policy) {
                case "always" -> true;
                case "on-failure" -> failed;
                default -> false;
            };
            return wanted && withinRetries(restartsSoFar);
        }

        /** Whether a check that has failed {@code consecutiveFailures} times in a row is due to restart the machine. */
        public boolean checkRestartDue(int consecutiveFailures) {
            int threshold = failuresBeforeRestart == null ? DEFAULT_FAILURES_BEFORE_RESTART : failuresBeforeRestart;
            return (onCheckFailure == null || onCheckFailure) && consecutiveFailures >= threshold;
        }

        /** Whether one more automatic restart is allowed after {@code restartsSoFar} (for any cause). */
        public boolean withinRetries(int restartsSoFar) {
            return maxRetries == null || restartsSoFar < maxRetries;
        }
    }

    /**
     * How a machine is stopped: the signal for the workload and how long it gets before the VM is powered off. Also
     * the body of a stop request, whose unset fields come from the machine's {@code config.stop}.
     *
     * @param signal a signal name ({@code SIGTERM}, {@code TERM}) or number, 1 to 64; default SIGTERM
     * @param timeoutS seconds, 0 to 3600; default 10
     */
    public record Stop(String signal, Integer timeoutS) {
        public static final int DEFAULT_TIMEOUT_S = 10;
        /** SIGTERM, 10 s. */
        public static final Stop DEFAULTS = new Stop("SIGTERM", DEFAULT_TIMEOUT_S);
        /** A stop request that names nothing: the machine's {@code config.stop} decides. */
        public static final Stop AS_CONFIGURED = new Stop(null, null);

        /** Checks the fields at {@code at}: a stop request's body checks at {@link FieldPath#root()}. */
        public Stop check(FieldPath at) {
            at.field("timeout_s").between(timeoutS, 0, 3600);
            if (signal != null && signalNumber(signal) < 0) {
                throw at.field("signal").invalid("must be a signal name or number, got '" + signal + "'");
            }
            return this;
        }

        /** This stop with its unset fields taken from {@code defaults}. */
        public Stop orElse(Stop defaults) {
            return new Stop(signal != null ? signal : defaults.signal(),
                    timeoutS != null ? timeoutS : defaults.timeoutS());
        }

        Stop filled() {
            return orElse(DEFAULTS);
        }

        /** The signal's number on Linux x86-64. */
        public int signalNumber() {
            return signal == null ? 15 : signalNumber(signal);
        }

        /** The timeout in seconds. */
        public int timeoutSeconds() {
            return timeoutS == null ? DEFAULT_TIMEOUT_S : timeoutS;
        }

        private static final Pattern SIGNAL_NUMBER = Pattern.compile("[0-9]{1,2}");

        /** The number of {@code signal}, or -1 when it names none. */
        private static int signalNumber(String signal) {
            String s = signal.toUpperCase(Locale.ROOT);
            if (SIGNAL_NUMBER.matcher(s).matches()) {
                int n = Integer.parseInt(s);
                return n >= 1 && n <= 64 ? n : -1;
            }
            return switch (s.startsWith("SIG") ? s.substring(3) : s) {
                case "HUP" -> 1;
                case "INT" -> 2;
                case "QUIT" -> 3;
                case "KILL" -> 9;
                case "USR1" -> 10;
                case "USR2" -> 12;
                case "TERM" -> 15;
                case "WINCH" -> 28;
                default -> -1;
            };
        }
    }

    /**
     * A machine's network options.
     *
     * @param egress whether the machine may open connections beyond its namespace, through NAT to the node's uplink
     *     (default true); without it the machine still reaches its namespace's machines and answers on its published
     *     ports
     */
    public record Network(Boolean egress) {
        static final Network DEFAULTS = new Network(true);

        Network filled() {
            return egress == null ? DEFAULTS : this;
        }

        /** Whether egress is on (unset means on). */
        public boolean egressAllowed() {
            return egress == null || egress;
        }
    }

    /**
     * A port published on the machine's node: connections to {@code port} on the node's publish address reach
     * {@code internalPort} in the machine.
     *
     * @param protocol {@code tcp} or {@code udp}
     * @param internalPort the port the workload listens on, 1-65535
     * @param port the port on the node, 1-65535; unique per protocol on the node (a conflict is refused at create)
     */
    public record Service(String protocol, Integer internalPort, Integer port) {
        static final List<String> PROTOCOLS = List.of("tcp", "udp");

        /** Checks each service at {@code at[i]}, and that no protocol and port is published twice. */
        static void checkAll(FieldPath at, List<Service> services) {
            var seen = new HashSet<String>();
            for (int i = 0; i < services.size(); i++) {
                FieldPath item = at.index(i);
                Service s = item.required(services.get(i));
                item.field("protocol").oneOf(item.field("protocol").required(s.protocol), PROTOCOLS);
                item.field("internal_port").between(item.field("internal_port").required(s.internalPort), 1, 65535);
                item.field("port").between(item.field("port").required(s.port), 1, 65535);
                if (!seen.add(s.protocol + "/" + s.port)) {
                    throw new ValidationException(item + ": " + s.protocol + " port " + s.port + " is published twice");
                }
            }
        }
    }

    /**
     * A health check of the machine's workload, run every {@code intervalS} from the machine's start plus
     * {@code gracePeriodS}: {@code http} and {@code tcp} checks from the node against the machine's address,
     * {@code exec} checks in the guest as {@code exec} runs commands. A check passes when an HTTP answer's status is
     * 2xx or 3xx, a TCP connection opens, or the command exits 0, each within {@code timeoutS}. Build one with
     * {@link #http}, {@link #tcp} or {@link #exec} and {@link #every}.
     *
     * @param type {@code http}, {@code tcp} or {@code exec}
     * @param port the guest port of an http or tcp check, 1-65535; not for exec
     * @param path an http check's absolute path with its query (default {@code /})
     * @param method an http check's method: GET (default), HEAD, POST, PUT, DELETE, PATCH or OPTIONS
     * @param headers an http check's extra request headers
     * @param command an exec check's argv (the first element found on the workload's PATH)
     * @param intervalS seconds between the starts of two runs, 1 to 86400 (default 10)
     * @param timeoutS seconds a run may take, 1 to 600 and at most {@code intervalS} (default 2)
     * @param gracePeriodS seconds after the machine starts before the first run, 0 to 3600 (default 0)
     */
    public record Check(Type type, Integer port, String path, String method, Map<String, String> headers,
                        List<String> command, Integer intervalS, Integer timeoutS, Integer gracePeriodS) {
        public static final int DEFAULT_INTERVAL_S = 10;
        public static final int DEFAULT_TIMEOUT_S = 2;
        static final int MAX_CHECKS = 16;
        static final List<String> METHODS = List.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS");

        /** What a check runs. */
        public enum Type {
            HTTP, TCP, EXEC;

            @com.fasterxml.jackson.annotation.JsonValue
            public String wireName() {
                return WireNames.of(this);
            }

            @com.fasterxml.jackson.annotation.JsonCreator
            public static Type parse(String wireName) {
                return WireNames.parse(Type.class, "check type", wireName);
            }
        }

        public Check {
            headers = headers == null ? null : Collections.unmodifiableMap(new TreeMap<>(headers));
            command = command == null ? null : Collections.unmodifiableList(new ArrayList<>(command));
        }

        /** An http check of {@code path} on {@code port}, with the default method and timing. */
        public static Check http(int port, String path) {
            return new Check(Type.HTTP, port, path, null, null, null, null, null, null);
        }

        /** A tcp check of {@code port}, with the default timing. */
        public static Check tcp(int port) {
            return new Check(Type.TCP, port, null, null, null, null, null, null, null);
        }

        /** An exec check running {@code command}, with the default timing. */
        public static Check exec(String... command) {
            return new Check(Type.EXEC, null, null, null, null, List.of(command), null, null, null);
        }

        /** This check with its timing replaced; a null keeps the current value. */
        public Check every(Integer intervalS, Integer timeoutS, Integer gracePeriodS) {
            return new Check(type, port, path, method, headers, command, intervalS != null ? intervalS : this.intervalS,
                    timeoutS != null ? timeoutS : this.timeoutS,
                    gracePeriodS != null ? gracePeriodS : this.gracePeriodS);
        }

        /** The interval as a duration (the default when unset). */
        public java.time.Duration interval() {
            return java.time.Duration.ofSeconds(intervalS == null ? DEFAULT_INTERVAL_S : intervalS);
        }

        /** The timeout as a duration (the default when unset). */
        public java.time.Duration timeout() {
            return java.time.Duration.ofSeconds(timeoutS == null ? DEFAULT_TIMEOUT_S : timeoutS);
        }

        /** The grace period as a duration (none when unset). */
        public java.time.Duration gracePeriod() {
            return java.time.Duration.ofSeconds(gracePeriodS == null ? 0 : gracePeriodS);
        }

        static Map<String, Check> filled(Map<String, Check> checks) {
            var filled = new TreeMap<String, Check>();
            checks.forEach((name, c) -> filled.put(name, c == null ? null : c.filled()));
            return Collections.unmodifiableMap(filled);
        }

        private Check filled() {
            boolean http = type == Type.HTTP;
            return new Check(type, port, http && path == null ? "/" : path, http && method == null ? "GET" : method,
                    http && headers == null ? Map.of() : headers, command,
                    intervalS == null ? DEFAULT_INTERVAL_S : intervalS, timeoutS == null ? DEFAULT_TIMEOUT_S : timeoutS,
                    gracePeriodS == null ? 0 : gracePeriodS);
        }

        static void checkAll(FieldPath at, Map<String, Check> checks) {
            if (checks.size() > MAX_CHECKS) {
                throw at.invalid("must have at most " + MAX_CHECKS + " checks, got " + checks.size());
            }
            checks.forEach((name, check) -> {
                checkKey(at, name);
                at.field(name).required(check).check(at.field(name));
            });
        }

        private void check(FieldPath at) {
            Type t = at.field("type").required(type);
            boolean probesPort = t != Type.EXEC;
            if (probesPort) {
                at.field("port").between(at.field("port").required(port), 1, 65535);
            } else {
                absent(at, "port", port, "http and tcp");
            }
            if (t == Type.HTTP) {
                if (path != null && !path.matches("/[\\x21-\\x7e]*")) {
                    throw at.field("path").invalid("must be an absolute path without spaces, got '" + path + "'");
                }
                at.field("method").oneOf(method, METHODS);
                if (headers != null) {
                    headers.forEach((k, v) -> {
                        if (!k.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
                            throw at.field("headers").invalid("name '" + k + "' is not a valid header name");
                        }
                        if (v == null || !v.matches("[^\\r\\n\\x00]*")) {
                            throw at.field("headers").field(k).invalid("must be a string without CR, LF or NUL");
                        }
                    });
                }
            } else {
                absent(at, "path", path, "http");
                absent(at, "method", method, "http");
                absent(at, "headers", headers, "http");
            }
            if (t == Type.EXEC) {
                List<String> argv = at.field("command").required(command);
                if (argv.isEmpty()) throw at.field("command").invalid("must name a program");
                for (int i = 0; i < argv.size(); i++) {
                    String arg = at.field("command").index(i).required(argv.get(i));
                    if (arg.indexOf('\0') >= 0) throw at.field("command").index(i).invalid("must not contain NUL");
                }
            } else {
                absent(at, "command", command, "exec");
            }
            at.field("interval_s").between(intervalS, 1, 86400);
            at.field("timeout_s").between(timeoutS, 1, 600);
            at.field("grace_period_s").between(gracePeriodS, 0, 3600);
            int interval = intervalS == null ? DEFAULT_INTERVAL_S : intervalS;
            if (timeoutS != null && timeoutS > interval) {
                throw at.field("timeout_s").invalid("must be at most interval_s (" + interval + "), got " + timeoutS);
            }
        }

        private void absent(FieldPath at, String field, Object value, String types) {
            if (value != null) throw at.field(field).invalid("is only for " + types + " checks, not " + type.wireName());
        }
    }

    /**
     * A secret of the machine's namespace (stored encrypted by the control plane) given to the workload: as the
     * variable {@code env} of its environment, or as the file {@code path} (mode 0400, owned by the workload's user) on
     * a tmpfs in the guest. The spec holds the reference only; the value reaches the node, in memory, only while the
     * machine is assigned to it. Build one with {@link #env(String, String)} or {@link #file}.
     *
     * @param name the secret's name in the namespace: 1 to 128 of {@code A-Z a-z 0-9 _ . -}, starting with a letter
     *     or {@code _}
     * @param env the variable it becomes: {@code [A-Za-z_][A-Za-z0-9_]*}, not also in {@code env}; exactly one of
     *     {@code env} and {@code path}
     * @param path the file it becomes: an absolute, normalised path (no {@code .} or {@code ..} segments, no
     *     {@code =}, at most 1024 bytes) inside a directory other than {@code /}, not under {@code /proc}, {@code /sys}
     *     or {@code /dev}. Unless that directory is already on a tmpfs ({@code /run}, {@code /tmp} and {@code /dev/shm}
     *     are), the guest mounts a tmpfs on it, hiding what the image has there
     */
    public record Secret(String name, String env, String path) {
        private static final java.util.regex.Pattern NAME =
                java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_.-]{0,127}");
        private static final java.util.regex.Pattern VARIABLE = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
        private static final List<String> SYSTEM_DIRS = List.of("/proc", "/sys", "/dev");

        /** Secret {@code name} as the variable {@code variable}. */
        public static Secret env(String name, String variable) {
            return new Secret(name, variable, null);
        }

        /** Secret {@code name} as the file {@code path}. */
        public static Secret file(String name, String path) {
            return new Secret(name, null, path);
        }

        /**
         * Checks a secret's name at {@code at}: 1 to 128 of {@code A-Z a-z 0-9 _ . -}, starting with a letter or
         * {@code _}. The one rule for names, in machine configs and in the secrets API.
         */
        public static String checkName(FieldPath at, String name) {
            if (name == null || !NAME.matcher(name).matches()) {
                throw at.invalid("must be 1-128 of A-Z a-z 0-9 _ . - starting with a letter or _, got '" + name + "'");
            }
            return name;
        }

        private static List<Secret> copy(List<Secret> secrets) {
            return Collections.unmodifiableList(new ArrayList<>(secrets));
        }

        /** Checks each secret at {@code at[i]}, that no variable or file is given twice, and none is in {@code env}. */
        static void checkAll(FieldPath at, List<Secret> secrets, Map<String, String> env) {
            var targets = new HashSet<String>();
            for (int i = 0; i < secrets.size(); i++) {
                FieldPath item = at.index(i);
                Secret s = item.required(secrets.get(i));
                checkName(item.field("name"), s.name);
                if ((s.env == null) == (s.path == null)) throw item.invalid("must set exactly one of env and path");
                if (s.env != null) {
                    if (!VARIABLE.matcher(s.env).matches()) {
                        throw item.field("env").invalid("must be a variable name ([A-Za-z_][A-Za-z0-9_]*), got '"
                                + s.env + "'");
                    }
                    if (env != null && env.containsKey(s.env)) {
                        throw item.field("env").invalid("'" + s.env + "' is also set in config.env");
                    }
                } else {
                    checkPath(item.field("path"), s.path);
                }
                String target = s.env != null ? "env " + s.env : "path " + s.path;
                if (!targets.add(target)) {
                    throw item.invalid("gives " + target + " a second time");
                }
            }
        }

        private static void checkPath(FieldPath at, String path) {
            if (!path.startsWith("/")) throw at.invalid("must be absolute, got '" + path + "'");
            if (path.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 1024) {
                throw at.invalid("must be at most 1024 bytes");
            }
            if (path.chars().anyMatch(c -> c < 0x20 || c == '=' || c == 0x7f)) {
                throw at.invalid("must not contain '=' or control characters");
            }
            String[] segments = path.substring(1).split("/", -1);
            for (String segment : segments) {
                if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                    throw at.invalid("must be a normalised path (no empty, . or .. segments), got '" + path + "'");
                }
            }
            if (segments.length < 2) throw at.invalid("must be inside a directory other than /, got '" + path + "'");
            for (String dir : SYSTEM_DIRS) {
                if (path.startsWith(dir + "/")) throw at.invalid("must not be under " + dir + ", got '" + path + "'");
            }
        }
    }

    /**
     * One of the namespace's volumes, mounted by the guest at {@code path}. The volume's block device carries an ext4
     * file system; the guest grows it to the device's size when it mounts it.
     *
     * @param volume the volume's name in the machine's namespace ({@link #checkVolumeName})
     * @param path where the guest mounts it: absolute, normalised (no {@code .} or {@code ..} segment, no empty
     *     segment, no trailing {@code /}), not {@code /} and not under {@code /proc}, {@code /sys} or {@code /dev}
     */
    public record Mount(String volume, String path) {
        /** The most volumes one machine mounts. */
        public static final int MAX_MOUNTS = 8;
        private static final List<String> RESERVED = List.of("/proc", "/sys", "/dev");

        /** Checks each mount at {@code at[i]}, that no path or volume appears twice, and the count. */
        static void checkAll(FieldPath at, List<Mount> mounts) {
            if (mounts.size() > MAX_MOUNTS) {
                throw at.invalid("must hold at most " + MAX_MOUNTS + " mounts, got " + mounts.size());
            }
            var paths = new HashSet<String>();
            var volumes = new HashSet<String>();
            for (int i = 0; i < mounts.size(); i++) {
                FieldPath item = at.index(i);
                Mount m = item.required(mounts.get(i));
                checkVolumeName(item.field("volume"), m.volume);
                checkPath(item.field("path"), m.path);
                if (!paths.add(m.path)) throw item.field("path").invalid("'" + m.path + "' is mounted twice");
                if (!volumes.add(m.volume)) throw item.field("volume").invalid("'" + m.volume + "' is mounted twice");
            }
        }

        /**
         * The one rule for a volume's name, checked at {@code at}: 1 to 63 of {@code a-z 0-9 _ -}, starting with a
         * letter or digit.
         *
         * @return {@code name}
         * @throws ValidationException otherwise
         */
        public static String checkVolumeName(FieldPath at, String name) {
            if (!at.required(name).matches("[a-z0-9][a-z0-9_-]{0,62}")) {
                throw at.invalid("must be 1-63 of a-z 0-9 _ - starting with a letter or digit, got '" + name + "'");
            }
            return name;
        }

        private static void checkPath(FieldPath at, String path) {
            if (!at.required(path).startsWith("/")) throw at.invalid("must be an absolute path, got '" + path + "'");
            if (path.equals("/")) throw at.invalid("must not be / (the root file system)");
            if (path.endsWith("/") || path.indexOf('\0') >= 0 || path.length() > 255) {
                throw at.invalid("must be a normalised path of at most 255 bytes without NUL, got '" + path + "'");
            }
            for (String segment : path.substring(1).split("/", -1)) {
                if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                    throw at.invalid("must be a normalised path (no empty, '.' or '..' segment), got '" + path + "'");
                }
            }
            for (String reserved : RESERVED) {
                if (path.equals(reserved) || path.startsWith(reserved + "/")) {
                    throw at.invalid("must not be under " + reserved + " (the guest's own), got '" + path + "'");
                }
            }
        }
    }

    /**
     * How the cluster's gateway serves a fleet over HTTP(S) ({@code http_service} in a fleet's or machine's config):
     * requests for {@code <fleet>.<namespace>.<domain>} and the fleet's host names go to {@code internalPort} of its
     * running machines on their private addresses. A null field takes its default in the gateway.
     *
     * @param internalPort the port the workload serves HTTP on, 1-65535 (required)
     * @param forceHttps whether plain-HTTP requests are redirected to HTTPS (default false)
     * @param autoStop {@code off} (default), {@code stop} or {@code suspend}: machines idle for {@code idleTimeoutS} are
     *     stopped, or suspended (their memory saved on their node, resumed by the next request that wakes them), down to
     *     {@code minMachinesRunning}
     * @param autoStart whether a request for the fleet with no running machine starts a stopped one and waits for it
     *     (default false)
     * @param minMachinesRunning machines {@code auto_stop} leaves running, 0 to 1000 (default 0)
     * @param idleTimeoutS seconds without a request after which {@code auto_stop} stops a machine, 1 to 86400
     *     (default {@value #DEFAULT_IDLE_TIMEOUT_S})
     * @param concurrency requests in flight per machine: above the soft limit the fleet counts as busy, at the hard
     *     limit a machine takes no more (default 20 and 25)
     */
    public record HttpService(Integer internalPort, Boolean forceHttps, AutoStop autoStop, Boolean autoStart,
                              Integer minMachinesRunning, Integer idleTimeoutS, Concurrency concurrency) {
        public static final int DEFAULT_IDLE_TIMEOUT_S = 300;

        /** A service on {@code internalPort} with every other field at its default. */
        public static HttpService on(int internalPort) {
            return new HttpService(internalPort, null, null, null, null, null, null);
        }

        /** Whether idle machines are stopped or suspended. */
        public boolean stopsIdle() {
            return autoStop == AutoStop.STOP || autoStop == AutoStop.SUSPEND;
        }

        /** {@code idle_timeout_s}, or its default. */
        public int idleTimeout() {
            return idleTimeoutS == null ? DEFAULT_IDLE_TIMEOUT_S : idleTimeoutS;
        }

        void check(FieldPath at) {
            at.field("internal_port").between(at.field("internal_port").required(internalPort), 1, 65535);
            at.field("min_machines_running").between(minMachinesRunning, 0, 1000);
            at.field("idle_timeout_s").between(idleTimeoutS, 1, 86400);
            if (concurrency != null) concurrency.check(at.field("concurrency"));
        }

        /** What {@code auto_stop} does with idle machines. */
        public enum AutoStop {
            OFF, STOP, SUSPEND;

            @com.fasterxml.jackson.annotation.JsonValue
            public String wireName() {
                return WireNames.of(this);
            }

            @com.fasterxml.jackson.annotation.JsonCreator
            public static AutoStop parse(String wireName) {
                return WireNames.parse(AutoStop.class, "auto_stop", wireName);
            }
        }

        /**
         * Per-machine limits of requests in flight.
         *
         * @param softLimit 1 to 100000, at most {@code hardLimit}
         * @param hardLimit 1 to 100000
         */
        public record Concurrency(Integer softLimit, Integer hardLimit) {
            void check(FieldPath at) {
                int soft = at.field("soft_limit").between(at.field("soft_limit").required(softLimit), 1, 100000);
                int hard = at.field("hard_limit").between(at.field("hard_limit").required(hardLimit), 1, 100000);
                if (soft > hard) throw at.field("soft_limit").invalid("must be at most hard_limit " + hard + ", got " + soft);
            }
        }
    }
}
