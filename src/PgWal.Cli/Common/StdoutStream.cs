// StdoutStream: file descriptor 1 written with write(2), as a C program's stdio does. Not a
// FileStream: on a regular file FileStream writes with pwrite at a position it keeps itself, so in
// `{ echo header; pgwal waldump ...; echo footer; } > out` it overwrote the header and the footer
// overwrote it (the shell's shared file offset never moved). Not Console's stream either: that one
// swallows EPIPE, and a dump into `| head` must stop when the reader goes away.
using System.Runtime.InteropServices;

namespace PgWal.Cli.Common;

internal sealed partial class StdoutStream : Stream
{
    private const int StdoutFd = 1;
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int EPIPE = 32;

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override unsafe void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            byte* p = start;
            nuint left = (nuint)buffer.Length;
            while (left > 0)
            {
                nint n = Write(StdoutFd, p, left);
                if (n >= 0)
                {
                    p += n;
                    left -= (nuint)n;
                    continue;
                }
                int errno = Marshal.GetLastSystemError();
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN)
                {
                    // A non-blocking descriptor inherited from the caller: wait until it takes more.
                    var fd = new PollFd { Fd = StdoutFd, Events = 0x4 /* POLLOUT */ };
                    Poll(&fd, 1, -1);
                    continue;
                }
                throw new IOException(errno == EPIPE ? "Broken pipe" : $"could not write to standard output: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
            }
        }
    }

    public override void Flush()
    {
        // Nothing is buffered here.
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
