// ConnectionSettingsTests: libpq's keyword=value parsing (quotes, backslash escapes, spaces
// around '='), environment defaults overridden by the string, errors that name the keyword, and
// the password file's matching rules (wildcards, escapes, the "replication" database, first match).
using PgWal.Replication.Client;
using PgWal.Tests.Infrastructure;

namespace PgWal.Tests.Replication.Client;

public sealed class ConnectionSettingsTests
{
    private static readonly Func<string, string?> NoEnvironment = _ => null;

    [Fact]
    public void Parse_ReadsQuotedAndEscapedValues_AsLibpq()
    {
        var s = ConnectionSettings.Parse(@"host = db.example port=6543 user='rep user' password='it\'s \\ here' application_name=a\ b sslmode=verify-full dbname=replication", NoEnvironment);
        Assert.Equal("db.example", s.Host);
        Assert.Equal(6543, s.Port);
        Assert.Equal("rep user", s.User);
        Assert.Equal(@"it's \ here", s.Password);
        Assert.Equal("a b", s.ApplicationName);
        Assert.Equal(SslMode.VerifyFull, s.SslMode);
        Assert.Equal("replication", s.DatabaseName);
    }

    [Fact]
    public void Parse_EnvironmentGivesDefaults_TheStringWins()
    {
        var env = new Dictionary<string, string> { ["PGHOST"] = "envhost", ["PGPORT"] = "7000", ["PGUSER"] = "envuser", ["PGSSLMODE"] = "require", ["PGAPPNAME"] = "envapp", ["PGPASSWORD"] = "pw" };
        var s = ConnectionSettings.Parse("port=7001", n => env.GetValueOrDefault(n));
        Assert.Equal(("envhost", 7001, "envuser", SslMode.Require, "envapp", "pw"), (s.Host, s.Port, s.User, s.SslMode, s.ApplicationName, s.Password));
        Assert.Equal("cli", s.With("host", "cli").Host);
        Assert.Equal(7001, s.With("host", "cli").Port);
    }

    [Theory]
    [InlineData("bogus=1", "invalid connection option \"bogus\"")]
    [InlineData("host", "missing \"=\" after \"host\" in connection info string")]
    [InlineData("user='abc", "unterminated quoted string in connection info string (value of \"user\")")]
    [InlineData("port=65536", "invalid integer value \"65536\" for connection option \"port\"")]
    [InlineData("sslmode=maybe", "invalid sslmode value: \"maybe\"")]
    [InlineData("replication=database", "invalid value for parameter \"replication\"")]
    public void Parse_BadInput_NamesTheKeyword(string text, string message)
        => Assert.StartsWith(message, Assert.Throws<ConnectionSettingsException>(() => ConnectionSettings.Parse(text, NoEnvironment)).Message);

    [Fact]
    public void PasswordFile_FirstMatchWins_WithWildcardsAndEscapes()
    {
        using var dir = new TempDirectory("pgpass");
        string file = dir.Combine("pgpass");
        File.WriteAllText(file, """
            # comment
            db:5432:postgres:rep:not-this-database
            db:5432:replication:rep:a\:b\\c
            *:*:*:rep:fallback
            """);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Assert.Equal(@"a:b\c", PasswordFileLookup.Find(file, "db", "5432", "replication", "rep"));
        Assert.Equal("fallback", PasswordFileLookup.Find(file, "other", "1", "replication", "rep"));
        Assert.Null(PasswordFileLookup.Find(file, "db", "5432", "replication", "someone"));
        var settings = ConnectionSettings.Parse($"host=db user=rep passfile={file}", NoEnvironment);
        Assert.Equal(@"a:b\c", settings.ResolvePassword());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
            Assert.Null(PasswordFileLookup.Find(file, "db", "5432", "replication", "rep"));   // readable by others: ignored
        }
    }

    [Fact]
    public void ToConnectionString_RoundTrips()
    {
        var s = ConnectionSettings.Parse(@"host=h port=1234 user='o\'k' password='p w'", NoEnvironment);
        var back = ConnectionSettings.Parse(s.ToConnectionString(includePassword: true), NoEnvironment);
        Assert.Equal((s.Host, s.Port, s.User, s.Password), (back.Host, back.Port, back.User, back.Password));
        Assert.DoesNotContain("password", s.ToConnectionString(includePassword: false));
    }
}
