package dev.bolero.oci;

/**
 * How much images may take on a node. A layer is untrusted input: a small compressed layer can unpack to far more
 * than it weighs (a decompression bomb), and many images together can fill the disk that machines and volumes share.
 * Each limit stops the pull that would cross it, before the bytes are written, with an error naming the image, the
 * layer and the limit; what that pull wrote is removed.
 *
 * @param maxImageBytes the most bytes of file content the layers of one image may unpack into its root drive, all
 *     layers together (files a later layer removes included: their blocks stay in the drive)
 * @param maxImageEntries the most tar entries the layers of one image may hold together
 * @param storeBudgetBytes the most bytes the image store may hold on this node: blobs, root drives (the blocks they
 *     use, not their free space) and the temporaries of pulls in progress
 */
public record ImageLimits(long maxImageBytes, long maxImageEntries, long storeBudgetBytes) {
    /** Unpacked files per image by default: 16 GiB. */
    public static final long DEFAULT_MAX_IMAGE_BYTES = 16L << 30;
    /** Tar entries per image by default: a million (the largest common images hold tens of thousands). */
    public static final long DEFAULT_MAX_IMAGE_ENTRIES = 1_000_000;

    public ImageLimits {
        if (maxImageBytes <= 0 || maxImageEntries <= 0 || storeBudgetBytes <= 0) {
            throw new IllegalArgumentException("image limits must be positive, got " + maxImageBytes + " bytes, " + maxImageEntries
                    + " entries, a store budget of " + storeBudgetBytes + " bytes");
        }
    }

    /** The default per-image limits and no store budget beyond the disk itself. */
    public static ImageLimits defaults() {
        return new ImageLimits(DEFAULT_MAX_IMAGE_BYTES, DEFAULT_MAX_IMAGE_ENTRIES, Long.MAX_VALUE);
    }

    /** These limits with at most {@code bytes} of unpacked files per image. */
    public ImageLimits withMaxImageBytes(long bytes) {
        return new ImageLimits(bytes, maxImageEntries, storeBudgetBytes);
    }

    /** These limits with at most {@code entries} tar entries per image. */
    public ImageLimits withMaxImageEntries(long entries) {
        return new ImageLimits(maxImageBytes, entries, storeBudgetBytes);
    }

    /** These limits with a store budget of {@code bytes}. */
    public ImageLimits withStoreBudgetBytes(long bytes) {
        return new ImageLimits(maxImageBytes, maxImageEntries, bytes);
    }
}
