"""ZaloPay's published callback example (docs.zalopay.vn callback spec, sandbox app 2553): the `data` text
exactly as ZaloPay prints it, and the mac it gives with the sandbox key2."""

from __future__ import annotations

CALLBACK_KEY2 = "kLtgPl8HHhfvMuDHPwKfgfsY4Ydm9eIz"
CALLBACK_DATA = (
    '{"app_id":2553,"app_trans_id":"200904_2553_1598435687208","app_time":1599189392817,"app_user":"demo",'
    '"amount":10000,"embed_data":"{\\"merchantinfo\\":\\"embeddata123\\",\\"promotioninfo\\":\\"\\"}",'
    '"item":"[{\\"itemid\\":\\"knb\\",\\"itemname\\":\\"kim nguyen bao\\",\\"itemprice\\":198400,'
    '\\"itemquantity\\":1}]","zp_trans_id":200904000000389,"server_time":1599189413498,"channel":38,'
    '"merchant_user_id":"7ZMSl3nEg5sOUJzOLSoUFT8xKNQVaLOLXHB--8Eytqc","user_fee_amount":0,"discount_amount":0}'
)
CALLBACK_MAC = "d8d33baf449b31d7f9b94fa50d7c942c08cd4d83f28fa185557da21acb104f67"

# payments.md §2.3's create vector, computed from the documented field order.
CREATE_KEY1 = "TESTKEY1"
CREATE_TEXT = "2553|240101_000001|user123|50000|1704067200000|{}|[]"
CREATE_MAC = "684d22f8c2711e980d47f8b1fdb4cfbe2e662b53799684ef15f678c00cc29e08"
