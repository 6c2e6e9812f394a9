/**
 * The built-in sample message `sfom-gateway send` posts when no --payload is given: one Contact
 * notification shaped like Salesforce's (made-up ids and values, valid checksums, SessionId nil).
 */
export const SAMPLE_NOTIFICATION = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>00D5g000004XyZqEAK</OrganizationId>
   <ActionId>04k5g000000Gm3QAAS</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://acme-corp.my.salesforce.com/services/Soap/c/61.0/00D5g000004XyZq</EnterpriseUrl>
   <PartnerUrl>https://acme-corp.my.salesforce.com/services/Soap/u/61.0/00D5g000004XyZq</PartnerUrl>
   <Notification>
    <Id>04l5g0000bnWgrYAAS</Id>
    <sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0035g0000IqDoXoAQK</sf:Id>
     <sf:AccountId>0015g0000G2F3zcAQC</sf:AccountId>
     <sf:Email>hiroshi.obrien@example.com</sf:Email>
     <sf:FirstName>Hiroshi</sf:FirstName>
     <sf:LastModifiedDate>2024-05-15T16:52:06.000Z</sf:LastModifiedDate>
     <sf:LastName>O'Brien</sf:LastName>
     <sf:MailingCity>Tokyo</sf:MailingCity>
     <sf:MailingCountry>Japan</sf:MailingCountry>
     <sf:Name>Hiroshi O'Brien</sf:Name>
     <sf:OwnerId>0055g0000gyT4TNAA0</sf:OwnerId>
     <sf:Phone>+1 (415) 555-4198</sf:Phone>
     <sf:Title>Account Manager</sf:Title>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>
`;
