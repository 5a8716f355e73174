package dev.bolero.api;

import java.util.List;

/**
 * What to run instead of the image's configuration; a {@code null} field keeps the image's value.
 *
 * @param entrypoint replaces the image's Entrypoint (and, as with Docker, drops the image's Cmd unless {@code cmd}
 *     is given too)
 * @param cmd replaces the image's Cmd
 * @param workdir replaces the image's WorkingDir; absolute
 * @param user replaces the image's User: {@code name}, {@code uid}, {@code name:group} or {@code uid:gid}
 */
public record InitOverrides(List<String> entrypoint, List<String> cmd, String workdir, String user) {
    public InitOverrides {
        entrypoint = entrypoint == null ? null : List.copyOf(entrypoint);
        cmd = cmd == null ? null : List.copyOf(cmd);
        if (workdir != null && !workdir.startsWith("/")) {
            throw ApiException.invalid("init.workdir must be an absolute path, got '" + workdir + "'");
        }
        if (user != null && !user.matches("[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?")) {
            throw ApiException.invalid("init.user must be name, uid, name:group or uid:gid, got '" + user + "'");
        }
    }

    /** No overrides. */
    public static InitOverrides none() {
        return new InitOverrides(null, null, null, null);
    }
}
