package dev.bolero.oci;

import java.io.IOException;
import java.io.InputStream;

/** A stream that reads in chunks only: its single-byte {@link #read()} is a one-byte {@link #read(byte[], int, int)}. */
abstract class ChunkedInputStream extends InputStream {
    @Override
    public final int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public abstract int read(byte[] buffer, int offset, int length) throws IOException;
}
