// synchronous_standby_names parsed as PostgreSQL 15 parses it: every form of the grammar, quoting,
// keyword case, names that are digits, matching (priority = first matching position, * matches
// all, ANY gives every match 1) and the errors, whose DETAIL texts were checked against
// `postgres -C synchronous_standby_names -c synchronous_standby_names=...` of PostgreSQL 15.
using PgWal.Replication.Sync;

namespace PgWal.Tests.Replication.SyncRep;

public sealed class SynchronousStandbyNamesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Empty_IsNoSynchronousReplication(string? text)
    {
        var names = SynchronousStandbyNames.Parse(text);
        Assert.False(names.IsDefined);
        Assert.Equal(0, names.NumSync);
        Assert.Empty(names.Names);
        Assert.Equal(0, names.PriorityOf("walreceiver"));
    }

    [Fact]
    public void PlainList_IsFirstOne()
    {
        var names = SynchronousStandbyNames.Parse("s1, s2 ,s3");
        Assert.True(names.IsDefined);
        Assert.Equal(SyncRepMethod.Priority, names.Method);
        Assert.Equal(1, names.NumSync);
        Assert.Equal(["s1", "s2", "s3"], names.Names);
    }

    [Theory]
    [InlineData("2 (a, b, c)", SyncRepMethod.Priority, 2)]
    [InlineData("FIRST 2 (a, b, c)", SyncRepMethod.Priority, 2)]
    [InlineData("first 3(a,b,c)", SyncRepMethod.Priority, 3)]
    [InlineData("FiRsT 1 (a, b, c)", SyncRepMethod.Priority, 1)]
    [InlineData("ANY 2 (a, b, c)", SyncRepMethod.Quorum, 2)]
    [InlineData("any 1 (a,b,c)", SyncRepMethod.Quorum, 1)]
    [InlineData("\tAnY\n007 ( a , b , c )\r\n", SyncRepMethod.Quorum, 7)]
    public void CountedForms_GiveMethodAndNumber(string text, SyncRepMethod method, int numSync)
    {
        var names = SynchronousStandbyNames.Parse(text);
        Assert.Equal(method, names.Method);
        Assert.Equal(numSync, names.NumSync);
        Assert.Equal(["a", "b", "c"], names.Names);
        Assert.Equal(text, names.Text);
    }

    [Fact]
    public void QuotedNames_KeepEverything_AndDoubledQuotesAreOneQuote()
    {
        var names = SynchronousStandbyNames.Parse("FIRST 1 (\"My Standby\", \"a\"\"b\", \"any\", \"\", \"x,y(z)\")");
        Assert.Equal(["My Standby", "a\"b", "any", "", "x,y(z)"], names.Names);
    }

    [Fact]
    public void Identifiers_TakeDigitsDollarsUnderscoresAndNonAscii_AndDigitsAreNames()
    {
        Assert.Equal(["_a$1", "größe", "1", "22"], SynchronousStandbyNames.Parse("_a$1, größe, 1, 22").Names);
        // A lone number is a name, not a count (standby_name: NUM).
        var number = SynchronousStandbyNames.Parse("2");
        Assert.Equal(1, number.NumSync);
        Assert.Equal(["2"], number.Names);
        // Longer words that start like a keyword are names.
        Assert.Equal(["anyone", "firstly"], SynchronousStandbyNames.Parse("anyone, firstly").Names);
    }

    [Fact]
    public void Names_KeepTheirCase_AndMatchApplicationNamesCaseInsensitively()
    {
        var names = SynchronousStandbyNames.Parse("Foo, \"BAR\"");
        Assert.Equal(["Foo", "BAR"], names.Names);
        Assert.Equal(1, names.PriorityOf("foo"));
        Assert.Equal(1, names.PriorityOf("FOO"));
        Assert.Equal(2, names.PriorityOf("bar"));
        Assert.Equal(0, names.PriorityOf("baz"));
    }

    [Fact]
    public void Priority_IsThePositionOfTheFirstMatch_AndStarMatchesAll()
    {
        var names = SynchronousStandbyNames.Parse("FIRST 2 (a, b, a, *)");
        Assert.Equal(1, names.PriorityOf("a"));
        Assert.Equal(2, names.PriorityOf("b"));
        Assert.Equal(4, names.PriorityOf("pg_receivewal"));
        Assert.Equal(1, SynchronousStandbyNames.Parse("*").PriorityOf("anything"));
        Assert.Equal(1, SynchronousStandbyNames.Parse("\"*\"").PriorityOf("anything"));
    }

    [Fact]
    public void Quorum_GivesEveryMatchPriorityOne()
    {
        var names = SynchronousStandbyNames.Parse("ANY 2 (a, b, *)");
        Assert.Equal(1, names.PriorityOf("a"));
        Assert.Equal(1, names.PriorityOf("b"));
        Assert.Equal(1, names.PriorityOf("c"));
        Assert.Equal(0, SynchronousStandbyNames.Parse("ANY 2 (a, b)").PriorityOf("c"));
    }

    [Theory]
    [InlineData("a b", "syntax error at or near \"b\"")]
    [InlineData("a,,b", "syntax error at or near \",\"")]
    [InlineData("FIRST (a)", "syntax error at or near \"(\"")]
    [InlineData("ANY 2 (a", "syntax error at end of input")]
    [InlineData("ANY 2 (a,", "syntax error at end of input")]
    [InlineData("ANY 2 ()", "syntax error at or near \")\"")]
    [InlineData("\"abc", "unterminated quoted identifier at end of input")]
    [InlineData("any", "syntax error at end of input")]
    [InlineData("any, a", "syntax error at or near \",\"")]
    [InlineData("first", "syntax error at end of input")]
    [InlineData("a; b", "syntax error at or near \";\"")]
    [InlineData("2 (a) b", "syntax error at or near \"b\"")]
    [InlineData("a \"b\"", "syntax error at or near \"\"\"")]
    [InlineData(" ", "syntax error at end of input")]
    [InlineData("1a", "syntax error at or near \"a\"")]
    [InlineData("a, b)", "syntax error at or near \")\"")]
    [InlineData("FIRST 1 (a) (b)", "syntax error at or near \"(\"")]
    [InlineData("a b \"c", "syntax error at or near \"b\"")]
    public void SyntaxErrors_NameTheSettingAndWhereParsingStopped(string text, string detail)
    {
        var e = Assert.Throws<FormatException>(() => SynchronousStandbyNames.Parse(text));
        Assert.Equal($"invalid value for parameter \"synchronous_standby_names\": \"{text}\": {detail}", e.Message);
        Assert.False(SynchronousStandbyNames.TryParse(text, out var result, out string? error));
        Assert.Same(SynchronousStandbyNames.None, result);
        Assert.Equal(e.Message, error);
    }

    [Theory]
    [InlineData("FIRST 0 (a)", "number of synchronous standbys (0) must be greater than zero")]
    [InlineData("ANY 00 (a)", "number of synchronous standbys (0) must be greater than zero")]
    [InlineData("0 (a, b)", "number of synchronous standbys (0) must be greater than zero")]
    [InlineData("FIRST 99999999999 (a)", "number of synchronous standbys (99999999999) is out of range")]
    public void CountsMustBePositive(string text, string detail)
    {
        var e = Assert.Throws<FormatException>(() => SynchronousStandbyNames.Parse(text));
        Assert.Equal($"invalid value for parameter \"synchronous_standby_names\": \"{text}\": {detail}", e.Message);
    }

    [Fact]
    public void MoreStandbysThanNames_IsAccepted_AsPostgreSqlDoes()
    {
        var names = SynchronousStandbyNames.Parse("ANY 3 (a)");
        Assert.Equal(3, names.NumSync);
        Assert.Equal(["a"], names.Names);
    }

    [Theory]
    [InlineData("off", SynchronousCommitLevel.Off)]
    [InlineData("local", SynchronousCommitLevel.Local)]
    [InlineData("remote_write", SynchronousCommitLevel.RemoteWrite)]
    [InlineData("on", SynchronousCommitLevel.On)]
    [InlineData("remote_apply", SynchronousCommitLevel.RemoteApply)]
    [InlineData("Remote_Apply", SynchronousCommitLevel.RemoteApply)]
    [InlineData("true", SynchronousCommitLevel.On)]
    [InlineData("yes", SynchronousCommitLevel.On)]
    [InlineData("1", SynchronousCommitLevel.On)]
    [InlineData("false", SynchronousCommitLevel.Off)]
    [InlineData("NO", SynchronousCommitLevel.Off)]
    [InlineData("0", SynchronousCommitLevel.Off)]
    public void SynchronousCommit_TakesPostgreSqlsNamesAndAliases(string text, SynchronousCommitLevel level)
        => Assert.Equal(level, SynchronousCommitLevels.Parse(text));

    [Fact]
    public void SynchronousCommit_FormatsPostgreSqlsNames_AndRejectsOthers()
    {
        Assert.Equal(["off", "local", "remote_write", "on", "remote_apply"], Enum.GetValues<SynchronousCommitLevel>().Select(l => l.Name()));
        var e = Assert.Throws<FormatException>(() => SynchronousCommitLevels.Parse("remote_flush"));
        Assert.Equal("invalid value for parameter \"synchronous_commit\": \"remote_flush\" (available values: local, remote_write, remote_apply, on, off)", e.Message);
    }
}
