package dev.bolero.api;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * Files that hold secrets or tenants' data (stores, tokens, machines' logs) are readable by their owner only:
 * {@code 0600}, in directories of {@code 0700}. Shared by the server, the agent and the CLI.
 */
public final class PrivateFiles {
    /** {@code rw-------}. */
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    /** {@code rwx------}. */
    public static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private PrivateFiles() {}

    /** The attribute that creates a file {@code 0600} (with {@link Files#createFile}). */
    public static FileAttribute<Set<PosixFilePermission>> fileAttribute() {
        return PosixFilePermissions.asFileAttribute(FILE);
    }

    /**
     * Makes {@code file} exist with mode {@code 0600}: created so when missing, its mode set when it exists (a file
     * an older version made {@code 0644}). A symbolic link is refused.
     *
     * @return {@code file}
     */
    public static Path file(Path file) throws IOException {
        try {
            Files.createFile(file, fileAttribute());
        } catch (FileAlreadyExistsException e) {
            if (Files.isSymbolicLink(file)) throw new IOException(file + " is a symbolic link", e);
            Files.setPosixFilePermissions(file, FILE);
        }
        return file;
    }

    /** Makes {@code dir} (and missing parents) exist, and gives {@code dir} itself mode {@code 0700}. */
    public static Path directory(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, DIRECTORY);
        return dir;
    }

    /**
     * Prepares an SQLite database file before it is opened: the database made {@code 0600}, and any journal, WAL or
     * shared-memory file left from before too. SQLite creates those later with the mode of the database file, so they
     * stay {@code 0600} whatever the process's umask.
     */
    public static void sqlite(Path database) throws IOException {
        file(database);
        for (String suffix : List.of("-journal", "-wal", "-shm")) {
            Path companion = database.resolveSibling(database.getFileName() + suffix);
            if (Files.exists(companion, LinkOption.NOFOLLOW_LINKS)) Files.setPosixFilePermissions(companion, FILE);
        }
    }
}
