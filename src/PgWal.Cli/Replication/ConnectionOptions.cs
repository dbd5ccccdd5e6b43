// ConnectionOptions: the connection options pg_receivewal and pg_basebackup share (-d connstr,
// -h host, -p port, -U user, -W / -w password prompting), turned into ConnectionSettings the way
// libpq combines them: environment defaults, then the connection string, then the single options.
// -h is --host as in libpq tools (System.CommandLine still takes a bare --help for help).
using System.CommandLine;
using PgWal.Cli.Common;
using PgWal.Replication.Client;

namespace PgWal.Cli.Replication;

internal sealed class ConnectionOptions
{
    public Option<string?> DbName { get; } = new("--dbname", "-d") { Description = "connection string (libpq keyword=value form)" };
    public Option<string?> Host { get; } = new("--host", "-h") { Description = "database server host or socket directory" };
    public Option<string?> Port { get; } = new("--port", "-p") { Description = "database server port number" };
    public Option<string?> User { get; } = new("--username", "-U") { Description = "connect as specified database user" };
    public Option<bool> NoPassword { get; } = new("--no-password", "-w") { Description = "never prompt for password" };
    public Option<bool> Password { get; } = new("--password", "-W") { Description = "force password prompt (should happen automatically)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { DbName, Host, Port, User, NoPassword, Password })
            command.Options.Add(option);
    }

    public ConnectionSettings Settings(ParseResult p, string applicationName)
    {
        try
        {
            var settings = ConnectionSettings.Parse(p.GetValue(DbName), applicationName)
                .With("host", p.GetValue(Host))
                .With("port", p.GetValue(Port))
                .With("user", p.GetValue(User));
            if (p.GetValue(Password) && !p.GetValue(NoPassword) && settings.Password == null)
                settings = settings with { Password = Prompt("Password: ") };
            if (!p.GetValue(NoPassword) && !Console.IsInputRedirected)
            {
                // As libpq's tools: asked once, when a server first wants a password, then reused.
                string? asked = null;
                settings = settings with { PasswordPrompt = () => asked ??= Prompt("Password: ") };
            }
            return settings;
        }
        catch (ConnectionSettingsException e)
        {
            throw new UsageException(e.Message);
        }
    }

    // Reads a password from the terminal without echo.
    private static string Prompt(string text)
    {
        Console.Error.Write(text);
        if (Console.IsInputRedirected)
            return Console.ReadLine() ?? "";
        var password = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
                break;
            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                    password.Length--;
                continue;
            }
            password.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return password.ToString();
    }
}
