package dev.bolero.oci.testing;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@link TestImages#push} builds: a busybox image with this configuration and these extra files (absolute path
 * → content, in a second layer). Empty strings/lists mean "not set".
 */
public record ImageSpec(List<String> entrypoint, List<String> cmd, List<String> env, String workdir, String user,
        Map<String, String> files) {
    public ImageSpec {
        entrypoint = List.copyOf(entrypoint);
        cmd = List.copyOf(cmd);
        env = List.copyOf(env);
        Objects.requireNonNull(workdir, "workdir");
        Objects.requireNonNull(user, "user");
        files = Map.copyOf(files);
        files.keySet().forEach(path -> {
            if (!path.startsWith("/")) {
                throw new IllegalArgumentException("file path '" + path + "' must be absolute");
            }
        });
    }

    /** An image that runs {@code args} and sets nothing else. */
    public static ImageSpec cmd(String... args) {
        return new ImageSpec(List.of(), List.of(args), List.of(), "", "", Map.of());
    }

    public ImageSpec withEntrypoint(String... args) {
        return new ImageSpec(List.of(args), cmd, env, workdir, user, files);
    }

    public ImageSpec withEnv(String... entries) {
        return new ImageSpec(entrypoint, cmd, List.of(entries), workdir, user, files);
    }

    public ImageSpec withWorkdir(String dir) {
        return new ImageSpec(entrypoint, cmd, env, dir, user, files);
    }

    public ImageSpec withUser(String name) {
        return new ImageSpec(entrypoint, cmd, env, workdir, name, files);
    }

    public ImageSpec withFile(String path, String content) {
        var more = new java.util.HashMap<>(files);
        more.put(path, content);
        return new ImageSpec(entrypoint, cmd, env, workdir, user, more);
    }
}
