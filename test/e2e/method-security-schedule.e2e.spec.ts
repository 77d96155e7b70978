import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Cron, CronExpression, Interval, ScheduleModule, Timeout } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { AuthModule, currentPrincipal, RunAs, Scopes } from 'nest-tessera';
import { TestIssuer } from 'nest-tessera/testing';
import { AUDIENCE } from '../support/forged-tokens.js';

// Scheduled tasks of a class protected by @Scopes('admin:purge'): with @RunAs they run as that
// service identity in either import order of ScheduleModule and AuthModule; an identity with
// the scope runs every tick, one without is refused every tick and the body never runs.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Kind = 'cron' | 'interval' | 'timeout';

@Injectable()
@Scopes('admin:purge')
class PurgeJob {
  readonly ran: Record<Kind, string[]> = { cron: [], interval: [], timeout: [] };

  @Cron(CronExpression.EVERY_SECOND)
  @RunAs('purger')
  async everySecond(): Promise<void> {
    this.ran.cron.push(currentPrincipal()!.subject);
  }

  @RunAs('purger')
  @Interval(40)
  async everyFewMs(): Promise<void> {
    this.ran.interval.push(currentPrincipal()!.subject);
  }

  @Timeout(20)
  @RunAs('purger')
  async once(): Promise<void> {
    this.ran.timeout.push(currentPrincipal()!.subject);
  }
}

const issuer = TestIssuer.create({ audience: AUDIENCE, alg: 'EdDSA' });

function schedulingApp(
  order: 'ScheduleModule first' | 'AuthModule first',
  scopes: string[],
  denied: Record<Kind, number>,
): Promise<INestApplication> {
  const auth = AuthModule.forRoot({
    issuers: [issuer.trusted],
    audience: AUDIENCE,
    serviceIdentities: { purger: { principal: { subject: 'purger', scopes } } },
    events: {
      accessDenied: ({ method }) => {
        const kind: Kind = method.endsWith('everySecond')
          ? 'cron'
          : method.endsWith('everyFewMs')
            ? 'interval'
            : 'timeout';
        denied[kind] += 1;
      },
    },
  });
  const schedule = ScheduleModule.forRoot();
  const metadata: ModuleMetadata = {
    imports: order === 'ScheduleModule first' ? [schedule, auth] : [auth, schedule],
    providers: [PurgeJob],
  };
  return Test.createTestingModule(metadata)
    .compile()
    .then(async (moduleRef) => {
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      return app;
    });
}

describe.each(['ScheduleModule first', 'AuthModule first'] as const)(
  'scheduled tasks with @RunAs, %s',
  (order) => {
    const allowedDenied: Record<Kind, number> = { cron: 0, interval: 0, timeout: 0 };
    const refusedDenied: Record<Kind, number> = { cron: 0, interval: 0, timeout: 0 };
    let allowed: INestApplication;
    let refused: INestApplication;

    beforeAll(async () => {
      [allowed, refused] = await Promise.all([
        schedulingApp(order, ['admin:purge'], allowedDenied),
        schedulingApp(order, ['orders:read'], refusedDenied),
      ]);
      // Every kind has had its chance: a cron tick each second, an interval every 40 ms.
      for (let waited = 0; waited < 3000; waited += 50) {
        const job = allowed.get(PurgeJob);
        if (job.ran.cron.length > 0 && refusedDenied.cron > 0 && refusedDenied.interval > 2) break;
        await sleep(50);
      }
    }, 10_000);
    afterAll(async () => {
      await allowed?.close();
      await refused?.close();
    });

    it.each(['cron', 'interval', 'timeout'] as const)(
      '%s: an identity with the scope runs, as that identity',
      (kind) => {
        const ran = allowed.get(PurgeJob).ran[kind];
        expect(ran.length).toBeGreaterThan(0);
        expect(new Set(ran)).toEqual(new Set(['purger']));
        expect(allowedDenied[kind]).toBe(0);
      },
    );

    it.each(['cron', 'interval', 'timeout'] as const)(
      '%s: an identity without the scope is refused every tick, and the body never runs',
      (kind) => {
        expect(refused.get(PurgeJob).ran[kind]).toEqual([]);
        expect(refusedDenied[kind]).toBeGreaterThan(kind === 'interval' ? 2 : 0);
      },
    );
  },
);

@Injectable()
class Reporter {
  @RunAs('reporter')
  async whoAmI(): Promise<string | undefined> {
    return currentPrincipal()?.subject;
  }
}

describe('two applications in one process', () => {
  const app = async (subject: string, reporter: Reporter | undefined = undefined) => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        AuthModule.forRoot({
          issuers: [issuer.trusted],
          audience: AUDIENCE,
          serviceIdentities: { reporter: { principal: { subject, scopes: [] } } },
        }),
      ],
      providers: [reporter === undefined ? Reporter : { provide: Reporter, useValue: reporter }],
    }).compile();
    return moduleRef.createNestApplication({ logger: false }).init();
  };

  it('keep their own service identities; closing one leaves the other working', async () => {
    const first = await app('first-reporter');
    const second = await app('second-reporter');
    try {
      expect(await first.get(Reporter).whoAmI()).toBe('first-reporter');
      expect(await second.get(Reporter).whoAmI()).toBe('second-reporter');
      await first.close();
      expect(await second.get(Reporter).whoAmI()).toBe('second-reporter');
      // The closed application's instance no longer has an identity to lend.
      await expect(first.get(Reporter).whoAmI()).rejects.toThrow(/no AuthModule built/);
    } finally {
      await second.close();
    }
  });

  it('refuse to share one instance, whose identities would mix', async () => {
    const shared = new Reporter();
    const first = await app('first-reporter', shared);
    try {
      await expect(app('second-reporter', shared)).rejects.toThrow(
        /Reporter: this instance is already in another running application/,
      );
      expect(await shared.whoAmI()).toBe('first-reporter');
    } finally {
      await first.close();
    }
    // Once the first has closed, the instance may serve another.
    const second = await app('second-reporter', shared);
    expect(await shared.whoAmI()).toBe('second-reporter');
    await second.close();
  });
});
