// pg_control of PostgreSQL 16, 17 and 18 (and 15's after a promotion; kept beside each version's fixtures) printed as that
// version's pg_controldata printed it. 16 and 17 share 15's layout (17's checkpoint wal_level fills
// what was padding); 18 adds default_char_signedness, which moves the nonce and the CRC. The
// fixtures were made with TZ unset, so their times are UTC.
using PgWal.Diagnostics;
using PgWal.Format;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Versions;

public sealed class VersionedControlDataTests
{
    public static TheoryData<int, string> Cases()
    {
        var data = new TheoryData<int, string>();
        foreach (int major in new[] { 16, 17, 18 })
        {
            foreach (var set in RealWalFixture.Names)
                data.Add(major, set);
        }
        // Each version's cluster after a promotion and an immediate stop: timeline 2, in production.
        foreach (int major in RealWalFixture.Majors)
            data.Add(major, RealWalFixture.PromoteSet);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ControlData_EqualsTheVersionsPgControldata(int major, string set)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", $"pg{major}", set);
        byte[] file = File.ReadAllBytes(Path.Combine(dir, "global", "pg_control"));
        Assert.True(ControlFileData.CrcMatches(file), $"the CRC of PostgreSQL {major}'s pg_control does not match");
        string text = ControlDataText.Format(ControlFileData.Decode(file), ControlFileData.CrcMatches(file), TimeZoneInfo.Utc);
        Assert.Equal(File.ReadAllText(Path.Combine(dir, "controldata.txt")), text);
    }

    [Fact]
    public void A18ControlFile_WithAFlippedByte_FailsItsCrc_AndADamagedSignednessByteIsCovered()
    {
        byte[] file = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "pg18", "mixed-1mb", "global", "pg_control"));
        Assert.True(ControlFileData.CrcMatches(file));
        file[ControlFileData.DefaultCharSignednessOffset18] ^= 1;   // inside 18's CRC, outside 15's
        Assert.False(ControlFileData.CrcMatches(file));
        file[ControlFileData.DefaultCharSignednessOffset18] ^= 1;
        file[ControlFileData.CrcOffset18 - 1] ^= 0x40;              // the nonce's last byte
        Assert.False(ControlFileData.CrcMatches(file));
    }
}
