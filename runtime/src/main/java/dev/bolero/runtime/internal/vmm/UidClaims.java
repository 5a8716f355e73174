package dev.bolero.runtime.internal.vmm;

import dev.bolero.runtime.VmmException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Host-wide claims on the uids of a range, one file per claimed uid in a directory every agent on the host shares
 * ({@code RUN/uids/<uid>}, created atomically), so two VMMs never share a uid. A machine starts its search at a
 * position derived from its id, so a restarted machine tends to get its uid back.
 */
final class UidClaims {
    private final Path dir;
    private final int first;
    private final int count;

    UidClaims(Path dir, int first, int count) {
        this.dir = dir;
        this.first = first;
        this.count = count;
    }

    /**
     * Claims a free uid for {@code machineId}.
     *
     * @throws VmmException when every uid of the range is claimed or the directory cannot be written
     */
    int claim(String machineId, String owner) throws VmmException {
        String action = "claim a jail uid for machine " + machineId;
        try {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            int start = Math.floorMod(machineId.hashCode(), count);
            for (int i = 0; i < count; i++) {
                int uid = first + (start + i) % count;
                try {
                    Files.writeString(file(uid), owner + "\n", StandardCharsets.UTF_8,
                            java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
                    return uid;
                } catch (FileAlreadyExistsException taken) {
                    // next
                }
            }
        } catch (IOException e) {
            throw new VmmException(action + ": " + e.getMessage(), e);
        }
        throw new VmmException(action + ": all " + count + " uids from " + first + " are in use");
    }

    /** The file that records the claim on {@code uid}; deleting it gives the uid back. */
    Path file(int uid) {
        return dir.resolve(Integer.toString(uid));
    }
}
