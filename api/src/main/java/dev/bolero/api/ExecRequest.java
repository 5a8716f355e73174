package dev.bolero.api;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Body of {@code POST /api/v1/machines/{id}/exec}: a command run inside the running workload's root.
 *
 * @param cmd argv, at least one element; {@code cmd[0]} without a {@code /} is looked up in {@code PATH}
 * @param env merged over the workload's environment
 * @param workdir working directory (default: the workload's)
 * @param user {@code name}, {@code uid}, {@code name:group} or {@code uid:gid} (default: the workload's user)
 * @param stdin text written to the command's standard input, then closed (default: empty)
 * @param timeoutS seconds, 1 to 3600 (default 60); the command is killed (SIGKILL to its process group) after it
 * @throws ApiException ({@code invalid_argument}) naming the bad field
 */
public record ExecRequest(
        List<String> cmd, Map<String, String> env, String workdir, String user, String stdin, Integer timeoutS) {
    public static final int DEFAULT_TIMEOUT_S = 60;

    public ExecRequest {
        if (cmd == null || cmd.isEmpty() || cmd.getFirst() == null || cmd.getFirst().isEmpty()) {
            throw ApiException.invalid("exec: cmd must name a program");
        }
        cmd = List.copyOf(cmd);
        for (String a : cmd) {
            if (a.indexOf('\0') >= 0) throw ApiException.invalid("exec: cmd contains a NUL character");
        }
        env = env == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(env));
        env.forEach((k, v) -> {
            if (k.isEmpty() || k.contains("=") || k.indexOf('\0') >= 0 || v == null || v.indexOf('\0') >= 0) {
                throw ApiException.invalid("exec: env '" + k + "' is not NAME=value without NUL characters");
            }
        });
        if (workdir != null && !workdir.startsWith("/")) {
            throw ApiException.invalid("exec: workdir must be absolute, got '" + workdir + "'");
        }
        if (user != null && !user.matches("[^:\\s]+(:[^:\\s]+)?")) {
            throw ApiException.invalid("exec: user must be name[:group] or uid[:gid], got '" + user + "'");
        }
        if (timeoutS != null && (timeoutS < 1 || timeoutS > 3600)) {
            throw ApiException.invalid("exec: timeout_s must be between 1 and 3600, got " + timeoutS);
        }
    }

    /** The timeout in seconds. */
    public int timeoutSeconds() {
        return timeoutS == null ? DEFAULT_TIMEOUT_S : timeoutS;
    }
}
