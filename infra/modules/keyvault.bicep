// Key Vault with RBAC: the apps read secrets (Key Vault references in app settings); both apps may use the
// key meant to wrap their shared Data Protection key ring (which encrypts tenants' secrets) without exporting it
// (not applied yet: decision 025).
param vaultName string
param location string
param tags object
param secretReaderPrincipalIds string[]
param keyUserPrincipalIds string[]

var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
var keyVaultCryptoUser = '12338af0-0e69-4776-bea7-57ae8d297424'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
  }
}

resource dataProtectionKey 'Microsoft.KeyVault/vaults/keys@2023-07-01' = {
  parent: vault
  name: 'dataprotection'
  properties: {
    kty: 'RSA'
    keySize: 2048
    keyOps: [
      'wrapKey'
      'unwrapKey'
    ]
  }
}

resource secretReaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in secretReaderPrincipalIds: {
  name: guid(vault.id, principalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
  }
}]

resource keyUsers 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in keyUserPrincipalIds: {
  name: guid(dataProtectionKey.id, principalId, keyVaultCryptoUser)
  scope: dataProtectionKey
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultCryptoUser)
  }
}]

output vaultName string = vault.name
output dataProtectionKeyUri string = dataProtectionKey.properties.keyUri
