// The help of every command: `npm run --silent cli -- <command> [<sub-command>] --help`, or
// `help <command> [<sub-command>]`.

import {
  CODE_LENGTH_MAX,
  CODE_LENGTH_MIN,
  CODE_MAX_ATTEMPTS_MAX,
  CODE_MAX_ATTEMPTS_MIN,
  CODE_TTL_SECONDS_MAX,
  CODE_TTL_SECONDS_MIN,
  DEFAULT_CODE_POLICY as D,
  LOCKOUT_SECONDS_MAX,
  LOCKOUT_SECONDS_MIN,
} from "../challenges/code-policy.js";

const RUN = "npm run --silent cli --";

/** The policy options of `apps create` (with their defaults) and `apps set-policy` (without). */
function policyOptions(forCreate: boolean): string {
  const d = (text: string) => (forCreate ? ` (default ${text})` : "");
  return [
    `  --code-length ${CODE_LENGTH_MIN}-${CODE_LENGTH_MAX}                 code length${d(`CHALLENGE_CODE_LENGTH, ${D.length}`)}`,
    `  --code-alphabet numeric|alphanumeric`,
    `                                    alphanumeric is upper case without 0/O/1/I/L${d(D.alphabet)}`,
    `  --ttl-seconds ${CODE_TTL_SECONDS_MIN}-${CODE_TTL_SECONDS_MAX}              lifetime of a challenge${d(`CHALLENGE_TTL_SECONDS, ${D.ttlSeconds}`)}`,
    `  --max-attempts ${CODE_MAX_ATTEMPTS_MIN}-${CODE_MAX_ATTEMPTS_MAX}               wrong codes per phone before its challenges fail${d(`CHALLENGE_MAX_ATTEMPTS, ${D.maxAttempts}`)}`,
    forCreate
      ? `  --low-assurance                   allow a policy under 20 bits (e.g. 4 digits)`
      : `  --low-assurance, --no-low-assurance\n                                    allow a policy under 20 bits (e.g. 4 digits), or not any more`,
    `  --lockout-seconds ${LOCKOUT_SECONDS_MIN}-${LOCKOUT_SECONDS_MAX}        lock-out after the wrong codes are used up${d(`LOCKOUT_SECONDS, ${D.lockoutSeconds}`)}`,
    `  --allowed-countries FR,DE         only phones of these countries (ISO 3166 alpha-2)${forCreate ? "" : "; \"any\": all again"}`,
    `  --channels sms_mo,sms,email       how codes may travel: sms_mo the user texts it (free), sms and email`,
    `                                    we send it (costs money: opt-in)${d("sms_mo")}`,
    `  --outbound-countries FR,DE        countries codes may be sent to by SMS${forCreate ? " (default: the countries of the app's numbers)" : "; \"default\": the numbers' countries again"}`,
    `  --locale en|de|fr                 language of the SMS text when a request names none${d("en")}`,
    `  --rate-limit-phone-per-hour N     challenges per phone per hour${d("RATE_LIMIT_PHONE_PER_HOUR")}`,
    `  --rate-limit-publishable-key-per-minute N`,
    `                                    challenges per publishable key and client IP per minute${d("RATE_LIMIT_PUBLISHABLE_KEY_PER_MINUTE")}`,
    `  --rate-limit-secret-key-per-minute N`,
    `                                    requests per secret key per minute${d("RATE_LIMIT_SECRET_KEY_PER_MINUTE")}`,
    ...(forCreate ? [] : [`                                    a rate limit "default": the service-wide default again`]),
  ].join("\n");
}

const ENVIRONMENT = `Configuration comes from the environment (see docs/configuration.md). Without DATABASE_URL the
embedded database in DATA_DIR (default ./.data) is used; it allows one process at a time, so stop
the service first. Every command applies pending migrations first.`;

export const HELP: Record<string, string> = {
  "": `reverse-otp command line

Usage: ${RUN} <command> [options]

Commands:
  apps create         creates an app with its keys (shown once)
  apps list           lists apps, their numbers and policies
  apps show           shows one app
  apps rotate-key     issues a new secret or publishable key
  apps set-policy     changes an app's code policy, countries, locale and rate limits
  apps set-callback   sets (with a new signing secret) or removes an app's callback URL
  apps add-number     adds a virtual number to an app
  apps remove-number  removes a virtual number from an app
  migrate             applies pending database migrations
  purge               deletes what the retention rules let go, now (--dry-run counts it)
  simulate-sms        sends a signed generic-provider webhook to a running service
  simulate-delivery-report  sends a signed generic-provider delivery report to a running service
  help [<command>]    shows this text, or a command's

Run "${RUN} <command> --help" for a command's options.

${ENVIRONMENT}
`,

  apps: `Usage: ${RUN} apps <command> [options]

Manages apps (tenants): their keys, virtual numbers, code policy and callback.

Commands:
  create          creates an app with a secret key and a publishable key (shown once)
  list            lists apps, their numbers and policies
  show            shows one app
  rotate-key      issues a new key
  set-policy      changes the code policy, countries, locale and rate limits
  set-callback    sets or removes the callback URL
  add-number      adds a virtual number
  remove-number   removes a virtual number

Run "${RUN} apps <command> --help" for its options.
`,

  "apps create": `Usage: ${RUN} apps create --name <name> --number <E.164 | short code --country CC> [options]

Creates an app with a secret key (sk_…, for your servers) and a publishable key (pk_…, for mobile
apps). Both are shown once and stored only as hashes.

Options:
  --name <name>                     the app's name, shown in the SMS text (1 to 80 characters)
  --number <E.164>                  a virtual number users text; repeat for several
  --country <CC>                    with a short code (--number 36034 --country FR) or a national
                                    number (--number 0612345678 --country FR): its country
  --provider <name>                 the SMS provider of the numbers (default generic)
  --channel <id>                    Bird: the channel id whose deliveries go to this number (one --number)
  --callback-url <https URL>        where to POST signed results; prints the signing secret once
${policyOptions(true)}
  --json                            print { app: { id, name }, secretKey, publishableKey, callbackSecret? }
`,

  "apps list": `Usage: ${RUN} apps list [--json]

Lists every app with its numbers, code policy, locale, countries, rate limits and callback URL.
Never shows keys or secrets.

Options:
  --json   print { apps: [...] }
`,

  "apps show": `Usage: ${RUN} apps show <app-id> [--json]

Shows one app's numbers, code policy, locale, countries, rate limits and callback URL.

Options:
  --json   print { app: {...} }
`,

  "apps rotate-key": `Usage: ${RUN} apps rotate-key <app-id> --kind secret|publishable [--revoke-old] [--json]

Issues a new key of that kind, shown once. The previous keys keep working, so clients can move
over; rotate again with --revoke-old to retire them (they stop working at once).

Options:
  --kind secret|publishable   which key
  --revoke-old                the app's other keys of this kind stop working now
  --json                      print { appId, kind, key, previousKeysRevoked }
`,

  "apps set-policy": `Usage: ${RUN} apps set-policy <app-id> [options]

Changes the given settings and keeps the others. The result is validated as at creation (e.g. 4
digits need --low-assurance). Challenges created from now on follow it; existing ones keep their
code, lifetime and attempts.

Options:
${policyOptions(false)}
  --json                            print { app: {...} }
`,

  "apps set-callback": `Usage: ${RUN} apps set-callback <app-id> (--url <https URL> [--keep-secret] | --remove) [--json]

Sets the URL that gets a signed POST for every final status of the app's challenges, with a new
signing secret (whsec_…), printed once: give it to the receiver. Events still being retried are
signed with the new secret from now on. The URL must be https and name a public host (see
docs/api.md, "Where callbacks may go"), unless CALLBACKS_ALLOW_PRIVATE_NETWORKS=true.

Options:
  --url <https URL>   the new callback URL
  --keep-secret       keep the current signing secret (moving the receiver, not rotating)
  --remove            no more callbacks; events not yet delivered are given up
  --json              print { app: { id, name, callbackUrl }, callbackSecret? }
`,

  "apps add-number": `Usage: ${RUN} apps add-number <app-id> --number <E.164 | short code> [--country CC] [--provider <name>] [--channel <id>] [--json]

Adds a virtual number that the app's users may text. Register it with the same provider there: a
number answers only through the provider it is registered with. A short code (e.g. smsmode's
36034 in France) needs its country; it is matched exactly as the provider writes it, and senders
written nationally (0612…) are read with its country.

Options:
  --number <number>   a long number, e.g. +447400000100, or a short code, e.g. 36034
  --country <CC>      ISO 3166 country of a short code (or of a national long number, 0612345678)
  --provider <name>   its SMS provider (default generic)
  --channel <id>      Bird: the channel id (or connector id) that names this number in Bird's deliveries
  --json              print { app: {...} }
`,

  "apps remove-number": `Usage: ${RUN} apps remove-number <app-id> --number <E.164 | short code> [--json]

Removes one of the app's virtual numbers; SMS to it then match nothing. An app keeps at least one
number, and a number stays while stored challenges name it (until the retention purge deletes
them, after RETENTION_CHALLENGE_DAYS).

Options:
  --number <number>  the number (or short code) to remove
  --json             print { app: {...} }
`,

  migrate: `Usage: ${RUN} migrate

Applies pending database migrations (Prisma's migrations folder) and says which. The service and
every command do this on their own at start; this command does only that.

${ENVIRONMENT}
`,

  purge: `Usage: ${RUN} purge [--dry-run] [--batch-size N] [--json]

Deletes, now, what the retention rules let go (the running service does the same every hour):
challenges older than RETENTION_CHALLENGE_DAYS (with their callback events), inbound messages older
than RETENTION_INBOUND_HOURS, unfinished multi-part SMS parts older than a day, expired rate-limit
counters, and wrong-code counts untouched for two days and not locking. Deletes in batches, with
progress on stderr.

Options:
  --dry-run          only count what would be deleted
  --batch-size N     rows per delete statement (default 1000)
  --json             print { dryRun, cutoffs, counts }
`,

  "simulate-delivery-report": `Usage: ${RUN} simulate-delivery-report --message-id <msg_…> [--status delivered|failed] [--url <base-url>]

Sends a correctly signed generic-provider delivery report (Standard Webhooks) to a running service,
as the SMS gateway would for a code the service sent it (GENERIC_OUTBOUND_URL): the message's
delivery moves from sent to delivered or failed. Signed like simulate-sms. Exits with 1 when the
service answers with an error.

Options:
  --message-id <msg_…>  the messageId the gateway received
  --status <status>     delivered (default) or failed
  --url <base-url>      the running service (default PUBLIC_BASE_URL)
`,

  "simulate-sms": `Usage: ${RUN} simulate-sms --from <E.164> --to <E.164> --text <text> [--url <base-url>] [--message-id <id>]

Sends a correctly signed generic-provider webhook (Standard Webhooks) to a running service, as if
the SMS had arrived, and prints the status and answer. It signs with GENERIC_WEBHOOK_SECRET; in
embedded mode (no DATABASE_URL) without it, with the secret the service generated in DATA_DIR.
Exits with 1 when the service answers with an error, or accepts the message but verifies nothing
(the outcome, such as wrong_code or invalid_sender, is explained on stderr).

Options:
  --from <E.164>       the sender (the user's phone)
  --to <E.164>         the recipient (the app's virtual number)
  --text <text>        the SMS text
  --url <base-url>     the service (default PUBLIC_BASE_URL)
  --message-id <id>    the provider message id (default a new random one; reuse one to test dedup)
`,

  help: `Usage: ${RUN} help [<command> [<sub-command>]]

Shows the list of commands, or one command's help (the same as <command> --help).
`,
};

/** The help text of a command path ("apps set-policy"), or undefined if there is no such command. */
export function helpFor(path: string): string | undefined {
  return HELP[path];
}
