using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;

namespace Saas.Web.Portal.Accounts;

/// <summary>The "choose a password" link of reset and invitation e-mails: one page, one token kind.</summary>
public static class PasswordLinks
{
    public static async Task<string> CreateAsync(UserManager<Account> users, Account account, NavigationManager navigation)
    {
        var token = await users.GeneratePasswordResetTokenAsync(account);
        var code = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token));
        return navigation.ToAbsoluteUri($"account/reset-password?email={Uri.EscapeDataString(account.Email)}&code={code}").ToString();
    }

    public static string? Decode(string? code)
    {
        try
        {
            return code is null ? null : Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(code));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
