package dev.bolero.oci;

import java.util.List;
import java.util.Objects;

/**
 * The parts of an image's configuration a machine needs to run it. Empty strings and lists mean "not set in the
 * image": an empty {@code workingDir} means {@code /}, an empty {@code user} means root.
 *
 * @param entrypoint the entrypoint, possibly empty
 * @param cmd the command (arguments to the entrypoint), possibly empty
 * @param env environment entries, each {@code KEY=VALUE}
 * @param workingDir the working directory, or {@code ""} if not set
 * @param user the user ({@code name}, {@code uid}, {@code uid:gid} or {@code name:group}), or {@code ""} if not set
 */
public record ImageConfig(List<String> entrypoint, List<String> cmd, List<String> env, String workingDir, String user) {
    public ImageConfig {
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        env = List.copyOf(env);
        Objects.requireNonNull(workingDir, "workingDir");
        Objects.requireNonNull(user, "user");
    }
}
