import { AUTH_ENV, authConfig, authConfigFromEnv } from '../../../lambdas/contracts/auth-config.js';

const base = { [AUTH_ENV.issuer]: 'https://cognito-idp.eu-west-1.amazonaws.com/pool', [AUTH_ENV.clientId]: 'cli' };
const consoleSettings = {
  clientId: 'console', scopes: ['openid', 'email'], redirectUri: 'https://d111.cloudfront.net',
  authorizationEndpoint: 'https://x.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
  tokenEndpoint: 'https://x.auth.eu-west-1.amazoncognito.com/oauth2/token',
  endSessionEndpoint: 'https://x.auth.eu-west-1.amazoncognito.com/logout',
};

describe('GET /v1/auth/config: the console section', () => {
  it('is read from EDGEFLEET_AUTH_CONSOLE (JSON) next to the CLI settings', () => {
    expect(authConfigFromEnv({ ...base, [AUTH_ENV.console]: JSON.stringify(consoleSettings) })).toEqual({
      issuer: base[AUTH_ENV.issuer], clientId: 'cli', scopes: ['openid'], console: consoleSettings,
    });
  });

  it('is absent without the variable (the local runtime, a stack without console)', () => {
    expect(authConfigFromEnv(base)).toEqual({ issuer: base[AUTH_ENV.issuer], clientId: 'cli', scopes: ['openid'] });
  });

  it('an external issuer may leave the endpoints to discovery', () => {
    const { authorizationEndpoint: _a, tokenEndpoint: _t, endSessionEndpoint: _e, ...bare } = consoleSettings;
    expect(authConfigFromEnv({ ...base, [AUTH_ENV.console]: JSON.stringify(bare) })?.console).toEqual(bare);
  });

  it.each([
    ['not JSON', '{clientId'],
    ['an http token endpoint', JSON.stringify({ ...consoleSettings, tokenEndpoint: 'http://x.example.com/token' })],
    ['no redirect URI', JSON.stringify({ ...consoleSettings, redirectUri: undefined })],
    ['an unknown field', JSON.stringify({ ...consoleSettings, clientSecret: 's' })],
  ])('refuses %s, naming the variable', (_name, value) => {
    expect(() => authConfigFromEnv({ ...base, [AUTH_ENV.console]: value })).toThrow(/EDGEFLEET_AUTH_CONSOLE.*not valid: console/);
  });

  it('an older CLI-only document still parses (the section is optional)', () => {
    expect(authConfig.safeParse({ issuer: 'https://idp.example.com', clientId: 'cli', scopes: ['openid'] }).success).toBe(true);
  });
});
