import { federationAudience, resolveCloud } from "../../src/azure/clouds.ts";

describe("federationAudience", () => {
  test.each([
    ["AzureCloud", "api://AzureADTokenExchange"],
    ["AzureUSGovernment", "api://AzureADTokenExchangeUSGov"],
    ["AzureChinaCloud", "api://AzureADTokenExchangeChina"],
    ["Custom", "api://AzureADTokenExchange"],
  ] as const)("follows the cloud: %s asks for %s", (cloud, audience) => {
    expect(federationAudience({ cloud })).toBe(audience);
  });

  test("the audience input wins over the cloud's", () => {
    expect(federationAudience({ cloud: "AzureUSGovernment", audience: "api://contoso" })).toBe(
      "api://contoso",
    );
  });
});

describe("resolveCloud", () => {
  test("a sovereign cloud signs in at its own authority for its own Resource Manager", () => {
    expect(resolveCloud({ cloud: "AzureChinaCloud" })).toMatchObject({
      armEndpoint: "https://management.chinacloudapi.cn",
      authorityHost: "https://login.chinacloudapi.cn",
      armScope: "https://management.chinacloudapi.cn/.default",
      knownAuthority: true,
    });
  });
});
