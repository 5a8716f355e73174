package dev.bolero.agent.machine;

import dev.bolero.api.PrivateFiles;
import dev.bolero.core.FileTrees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** A machine's own directory on the node: created private with the machine, deleted with it. */
final class MachineFiles {
    private MachineFiles() {}

    /** A machine's directory, {@code 0700}: its logs are the tenant's. */
    static void createDirectory(Path dir) {
        try {
            PrivateFiles.directory(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("create " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Deletes {@code dir} and everything below it; entries that vanish meanwhile (a VMM's jail being released) are fine. */
    static void deleteRecursively(Path dir) {
        try {
            FileTrees.delete(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("delete " + dir + ": " + e.getMessage(), e);
        }
    }
}
