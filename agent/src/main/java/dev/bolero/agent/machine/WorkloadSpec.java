package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.core.MachineSpec;
import dev.bolero.oci.ImageConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the guest runs: the image's configuration with a machine's overrides applied, Docker's way: an entrypoint
 * override drops the image's cmd unless a cmd is given too; {@code env} is merged over the image's Env; PATH gets
 * Docker's default when neither sets it.
 */
record WorkloadSpec(List<String> argv, List<String> env, String workdir, String user) {
    static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    WorkloadSpec {
        argv = List.copyOf(argv);
        env = List.copyOf(env);
    }

    /**
     * @throws ApiException ({@code failed_precondition}) when neither the image nor the overrides name a program
     */
    static WorkloadSpec merge(String image, ImageConfig config, MachineSpec.Init init, Map<String, String> env) {
        List<String> entrypoint = init.entrypoint() != null ? init.entrypoint() : config.entrypoint();
        List<String> cmd = init.cmd() != null ? init.cmd() : init.entrypoint() != null ? List.of() : config.cmd();
        List<String> argv = new ArrayList<>(entrypoint);
        argv.addAll(cmd);
        if (argv.isEmpty()) {
            throw ApiException.failedPrecondition(
                    "image " + image + " has no entrypoint or cmd, and the machine's init gives none");
        }
        Map<String, String> merged = new LinkedHashMap<>();
        for (String kv : config.env()) {
            int eq = kv.indexOf('=');
            if (eq > 0) merged.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        merged.putAll(env);
        merged.putIfAbsent("PATH", DEFAULT_PATH);
        List<String> envList = merged.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        String workdir = init.workdir() != null ? init.workdir()
                : config.workingDir().isEmpty() ? "/" : config.workingDir();
        String user = init.user() != null ? init.user() : config.user().isEmpty() ? "0:0" : config.user();
        return new WorkloadSpec(argv, envList, workdir, user);
    }
}
