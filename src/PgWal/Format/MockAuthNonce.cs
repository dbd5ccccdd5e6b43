// MockAuthNonce: pg_control's mock_authentication_nonce (MOCK_AUTH_NONCE_LEN = 32 random bytes
// chosen by initdb). A value type with byte-wise equality so ControlFileData stays a value-equal record.
namespace PgWal.Format;

/// <summary>The 32-byte <c>mock_authentication_nonce</c> of pg_control. <c>default</c> is all zeros.</summary>
public readonly struct MockAuthNonce : IEquatable<MockAuthNonce>
{
    /// <summary>Length in bytes (<c>MOCK_AUTH_NONCE_LEN</c>).</summary>
    public const int Length = 32;

    private static readonly byte[] s_zeros = new byte[Length];

    private readonly byte[]? _bytes; // exactly Length bytes, never mutated; null = all zeros

    /// <summary>Copies exactly <see cref="Length"/> bytes.</summary>
    /// <exception cref="ArgumentException"><paramref name="bytes"/> is not 32 bytes long.</exception>
    public MockAuthNonce(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length)
            throw new ArgumentException($"the nonce is {Length} bytes, got {bytes.Length}", nameof(bytes));
        _bytes = bytes.ToArray();
    }

    /// <summary>The 32 bytes.</summary>
    public ReadOnlySpan<byte> Span => _bytes ?? s_zeros;

    /// <summary>Copies the 32 bytes to the start of <paramref name="destination"/>.</summary>
    public void CopyTo(Span<byte> destination) => Span.CopyTo(destination);

    /// <inheritdoc/>
    public bool Equals(MockAuthNonce other) => Span.SequenceEqual(other.Span);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is MockAuthNonce other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(Span);
        return hash.ToHashCode();
    }

    /// <summary>Compares nonces byte by byte.</summary>
    public static bool operator ==(MockAuthNonce left, MockAuthNonce right) => left.Equals(right);

    /// <summary>Compares nonces byte by byte.</summary>
    public static bool operator !=(MockAuthNonce left, MockAuthNonce right) => !left.Equals(right);

    /// <summary>Lower-case hex, 64 digits, as pg_controldata prints it.</summary>
    public override string ToString() => Convert.ToHexStringLower(Span);
}
