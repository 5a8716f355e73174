package dev.bolero.agent.machine;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The block stream a volume moves in: its file cut into {@value #BLOCK}-byte blocks, each known by the SHA-256 of its
 * bytes. A pass sends the blocks whose hash differs from the pass before (all of them at the first), a block of zeros
 * as a header only (sparse: a hole is neither sent nor written), and ends with the file's digest: the SHA-256 of its
 * blocks' hashes in order, which the receiver computes again from what it holds and compares.
 *
 * <p>Frames, big-endian: {@code 'H' size:long} first; then {@code 'D' index:long length:int bytes} for a block of
 * data and {@code 'Z' index:long} for a block of zeros; last {@code 'E' digest:32 bytes}.
 */
public final class VolumeBlocks {
    /** The unit of comparison and transfer. */
    public static final int BLOCK = 1 << 20;
    private static final byte[] ZEROS = new byte[BLOCK];

    private VolumeBlocks() {}

    /** What one pass sent or received. */
    public record Pass(long size, long dataBlocks, long zeroBlocks, long bytes, String digest, byte[][] hashes) {
        /** The blocks the pass carried: those that changed since the pass before. */
        public long blocks() {
            return dataBlocks + zeroBlocks;
        }
    }

    /**
     * Sends the blocks of {@code file} whose hash differs from {@code before} (every block when it is null, zero
     * blocks as headers), then the digest.
     *
     * @return what was sent, with every block's hash (the {@code before} of the next pass)
     * @throws IOException when the file cannot be read or {@code out} written
     */
    public static Pass send(Path file, byte[][] before, OutputStream out) throws IOException {
        var data = new DataOutputStream(out);
        try (var raf = new RandomAccessFile(file.toFile(), "r")) {
            long size = raf.length();
            int count = blocks(size);
            byte[][] hashes = new byte[count][];
            MessageDigest whole = sha256();
            data.writeByte('H');
            data.writeLong(size);
            byte[] buffer = new byte[BLOCK];
            long dataBlocks = 0;
            long zeroBlocks = 0;
            long bytes = 0;
            for (int i = 0; i < count; i++) {
                int length = (int) Math.min(BLOCK, size - (long) i * BLOCK);
                raf.seek((long) i * BLOCK);
                raf.readFully(buffer, 0, length);
                boolean zero = isZero(buffer, length);
                hashes[i] = zero && length == BLOCK ? ZERO_HASH.clone() : hash(buffer, length);
                whole.update(hashes[i]);
                if (before != null && i < before.length && Arrays.equals(before[i], hashes[i])) continue;
                if (zero) {
                    data.writeByte('Z');
                    data.writeLong(i);
                    zeroBlocks++;
                } else {
                    data.writeByte('D');
                    data.writeLong(i);
                    data.writeInt(length);
                    data.write(buffer, 0, length);
                    dataBlocks++;
                    bytes += length;
                }
            }
            byte[] digest = whole.digest();
            data.writeByte('E');
            data.write(digest);
            data.flush();
            return new Pass(size, dataBlocks, zeroBlocks, bytes, HexFormat.of().formatHex(digest), hashes);
        }
    }

    /**
     * Applies one pass from {@code in} to {@code file}: sized as the sender's, its data blocks written, its zero
     * blocks written as zeros unless {@code fresh} (a new sparse file, whose holes read as zeros already); then reads
     * the whole file back and checks its digest against the sender's.
     *
     * @throws IOException when the stream is cut or malformed, the file cannot be written, or the digests differ
     *     (saying both)
     */
    public static Pass receive(InputStream in, Path file, boolean fresh) throws IOException {
        var data = new DataInputStream(in);
        long dataBlocks = 0;
        long zeroBlocks = 0;
        long bytes = 0;
        byte[] sent = new byte[32];
        try (var raf = new RandomAccessFile(file.toFile(), "rw")) {
            if (data.readByte() != 'H') throw new IOException("receive volume blocks: the stream has no header");
            long size = data.readLong();
            if (size < 0 || size % 512 != 0) throw new IOException("receive volume blocks: bad size " + size);
            if (raf.length() != size) raf.setLength(size);
            byte[] buffer = new byte[BLOCK];
            while (true) {
                byte kind = data.readByte();
                if (kind == 'E') {
                    data.readFully(sent);
                    break;
                }
                long index = data.readLong();
                if (index < 0 || index >= blocks(size)) {
                    throw new IOException("receive volume blocks: block " + index + " is beyond the size " + size);
                }
                switch (kind) {
                    case 'D' -> {
                        int length = data.readInt();
                        if (length <= 0 || length > BLOCK || index * BLOCK + length > size) {
                            throw new IOException("receive volume blocks: block " + index + " has a bad length "
                                    + length);
                        }
                        data.readFully(buffer, 0, length);
                        raf.seek(index * BLOCK);
                        raf.write(buffer, 0, length);
                        dataBlocks++;
                        bytes += length;
                    }
                    case 'Z' -> {
                        if (!fresh) {
                            raf.seek(index * BLOCK);
                            raf.write(ZEROS, 0, (int) Math.min(BLOCK, size - index * BLOCK));
                        }
                        zeroBlocks++;
                    }
                    default -> throw new IOException("receive volume blocks: unknown frame " + kind);
                }
            }
            raf.getFD().sync();
        } catch (EOFException e) {
            throw new IOException("receive volume blocks: the stream ended before its digest", e);
        }
        byte[][] hashes = hashes(file);
        String digest = HexFormat.of().formatHex(digestOf(hashes));
        String expected = HexFormat.of().formatHex(sent);
        if (!digest.equals(expected)) {
            throw new IOException("verify volume copy " + file.getFileName() + ": digest " + digest + ", the source's "
                    + expected);
        }
        return new Pass(java.nio.file.Files.size(file), dataBlocks, zeroBlocks, bytes, digest, hashes);
    }

    /** The hash of every block of {@code file}. */
    static byte[][] hashes(Path file) throws IOException {
        try (var raf = new RandomAccessFile(file.toFile(), "r")) {
            long size = raf.length();
            byte[][] hashes = new byte[blocks(size)][];
            byte[] buffer = new byte[BLOCK];
            for (int i = 0; i < hashes.length; i++) {
                int length = (int) Math.min(BLOCK, size - (long) i * BLOCK);
                raf.seek((long) i * BLOCK);
                raf.readFully(buffer, 0, length);
                hashes[i] = isZero(buffer, length) && length == BLOCK ? ZERO_HASH.clone() : hash(buffer, length);
            }
            return hashes;
        }
    }

    private static byte[] digestOf(byte[][] hashes) {
        MessageDigest whole = sha256();
        for (byte[] h : hashes) whole.update(h);
        return whole.digest();
    }

    private static final byte[] ZERO_HASH = hash(ZEROS, BLOCK);

    private static int blocks(long size) {
        return Math.toIntExact((size + BLOCK - 1) / BLOCK);
    }

    private static boolean isZero(byte[] buffer, int length) {
        return Arrays.mismatch(buffer, 0, length, ZEROS, 0, length) < 0;
    }

    private static byte[] hash(byte[] buffer, int length) {
        MessageDigest md = sha256();
        md.update(buffer, 0, length);
        return md.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
