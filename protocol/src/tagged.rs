//! Enums written as one JSON object with a `"type"` member naming the
//! variant beside the variant's fields (`{"type": "send", "body": …}`), read
//! in one pass.
//!
//! serde's own `#[serde(tag = "type")]` cannot know where in an object the
//! tag is, so it first reads every object whole into a tree of its own and
//! then reads the variant from that tree: a second pass over every frame,
//! and in the web client a second copy of the decoder of every type nested
//! in a frame (about a quarter of the protocol's code there). Every encoder
//! of these objects (serde's, so the client's and the server's) writes the
//! tag first; [`tagged_enum!`] reads such an object straight from its text,
//! the tag and then the fields. An object whose tag comes later is just as
//! valid JSON: it is rewritten with the tag first and read again.
//!
//! Unlike serde's derive, only objects are read (not the same fields as an
//! array), and only as JSON (the rewrite needs serde_json's raw values; the
//! protocol and the client's cache are JSON throughout). A second `"type"`
//! is refused either way, as serde refuses it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, Deserializer, EnumAccess, IgnoredAny, MapAccess, VariantAccess, Visitor,
};
use serde_json::value::RawValue;

/// The key that names the variant.
const TAG: &str = "type";

/// Declares an enum written as a tagged object: `Serialize` as serde's
/// `#[serde(tag = "type", rename_all = "snake_case")]` writes it (tag
/// first), `Deserialize` in one pass. Variants and fields take serde's
/// attributes; the enum itself takes none (its representation is this
/// macro's), and `#[serde(other)]` has no place in it.
macro_rules! tagged_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(serde::Serialize)]
        #[serde(tag = "type", rename_all = "snake_case")]
        $vis enum $name { $($body)* }

        const _: () = {
            type Target = $name;

            /// The same variants, externally tagged: what serde derives
            /// to read a variant whose name is already known.
            #[derive(serde::Deserialize)]
            #[serde(remote = "Target", rename_all = "snake_case")]
            #[allow(dead_code)]
            enum Variants { $($body)* }

            impl $crate::tagged::FromVariant for $name {
                fn from_variant<'de, D: serde::Deserializer<'de>>(
                    variant: D,
                ) -> Result<Self, D::Error> {
                    Variants::deserialize(variant)
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(
                    deserializer: D,
                ) -> Result<Self, D::Error> {
                    $crate::tagged::deserialize(deserializer)
                }
            }
        };
    };
}

pub(crate) use tagged_enum;

/// A tagged enum's variants, read by serde's externally tagged derive.
pub trait FromVariant: Sized {
    /// Reads `Self` from a deserializer that offers one enum variant.
    fn from_variant<'de, D: Deserializer<'de>>(variant: D) -> Result<Self, D::Error>;
}

/// Reads a tagged object.
pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
where
    T: FromVariant + DeserializeOwned,
    D: Deserializer<'de>,
{
    deserializer.deserialize_map(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: FromVariant + DeserializeOwned> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        write!(formatter, "an object with a \"{TAG}\"")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key::<Text<'de>>()? {
            Some(Text(key)) if key == TAG => {
                let Text(tag) = map.next_value()?;
                T::from_variant(Variant {
                    tag,
                    map: Rest(map),
                })
            }
            Some(Text(first)) => tag_first(first, map),
            None => Err(de::Error::missing_field(TAG)),
        }
    }
}

/// Reads the rest of an object whose first key was not the tag, and reads
/// it again with the tag first.
fn tag_first<'de, T, A>(first: Cow<'de, str>, mut map: A) -> Result<T, A::Error>
where
    T: DeserializeOwned,
    A: MapAccess<'de>,
{
    let mut tag = None;
    let mut rest = Vec::new();
    let mut key = Some(first);
    while let Some(name) = key {
        let value: Box<RawValue> = map.next_value()?;
        if name == TAG {
            if tag.is_some() {
                return Err(de::Error::duplicate_field(TAG));
            }
            tag = Some(value);
        } else {
            rest.push((name, value));
        }
        key = map.next_key::<Text<'de>>()?.map(|Text(key)| key);
    }
    let tag = tag.ok_or_else(|| de::Error::missing_field(TAG))?;
    let mut text = format!("{{\"{TAG}\":{}", tag.get());
    for (name, value) in rest {
        let name = serde_json::to_string(&name).map_err(de::Error::custom)?;
        text.push(',');
        text.push_str(&name);
        text.push(':');
        text.push_str(value.get());
    }
    text.push('}');
    serde_json::from_str(&text).map_err(de::Error::custom)
}

/// A string, borrowed from the input when it can be.
struct Text<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// The rest of a tagged object, after its tag: a second tag is refused, as
/// serde's own tagged derive refuses it.
struct Rest<A>(A);

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Rest<A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.0.next_key::<Text<'de>>()? {
            None => Ok(None),
            Some(Text(key)) if key == TAG => Err(de::Error::duplicate_field(TAG)),
            Some(Text(Cow::Borrowed(key))) => seed
                .deserialize(de::value::BorrowedStrDeserializer::new(key))
                .map(Some),
            Some(Text(Cow::Owned(key))) => seed
                .deserialize(de::value::StringDeserializer::new(key))
                .map(Some),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.0.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

/// One variant, named by the tag, whose fields are the rest of the object.
struct Variant<'de, A> {
    tag: Cow<'de, str>,
    map: A,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Variant<'de, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_enum(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> EnumAccess<'de> for Variant<'de, A> {
    type Error = A::Error;
    type Variant = Self;

    fn variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, Self), A::Error> {
        let name = seed.deserialize(de::value::StrDeserializer::<A::Error>::new(&self.tag))?;
        Ok((name, self))
    }
}

impl<'de, A: MapAccess<'de>> VariantAccess<'de> for Variant<'de, A> {
    type Error = A::Error;

    fn unit_variant(mut self) -> Result<(), A::Error> {
        // Like serde's tagged unit variants: other members are ignored.
        while self.map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn newtype_variant_seed<S: de::DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<S::Value, A::Error> {
        seed.deserialize(de::value::MapAccessDeserializer::new(self.map))
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, A::Error> {
        Err(de::Error::invalid_type(
            de::Unexpected::TupleVariant,
            &"a variant with named fields",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, A::Error> {
        visitor.visit_map(self.map)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use crate::{Action, ClientFrame, GroupEvent, GroupEventKind, Message, ServerFrame, User};

    fn user() -> User {
        serde_json::from_value(json!({"id": 3, "username": "ann"})).unwrap()
    }

    #[test]
    fn the_tag_may_come_anywhere() {
        let first: ClientFrame =
            serde_json::from_str(r#"{"type":"receipt","conversation":7,"kind":"read","seq":9}"#)
                .unwrap();
        let last: ClientFrame =
            serde_json::from_str(r#"{"conversation":7,"kind":"read","seq":9,"type":"receipt"}"#)
                .unwrap();
        let middle: ClientFrame =
            serde_json::from_str(r#"{"conversation":7, "type" : "receipt","kind":"read","seq":9}"#)
                .unwrap();
        assert_eq!(first, last);
        assert_eq!(first, middle);
    }

    #[test]
    fn keys_that_need_escaping_survive_the_rewrite() {
        let frame: ClientFrame = serde_json::from_str(
            r#"{"body":"a \"quoted\"\nline","conversation":1,"client_id":"00000000-0000-0000-0000-000000000000","\u0074ype":"send"}"#,
        )
        .unwrap();
        let ClientFrame::Send { body, .. } = frame else {
            panic!("{frame:?}");
        };
        assert_eq!(body, "a \"quoted\"\nline");
    }

    #[test]
    fn nested_tagged_objects_are_read_either_way() {
        let message = Message {
            conversation: 4,
            seq: 2,
            sender: 3,
            action: Some(Action::Edit {
                target: 1,
                body: "fixed".into(),
            }),
            event: Some(GroupEvent {
                by: user(),
                kind: GroupEventKind::Left,
            }),
            ..Message::default()
        };
        let frame = ServerFrame::Message {
            message: message.clone(),
        };
        let text = serde_json::to_string(&frame).unwrap();
        assert!(text.starts_with(r#"{"type":"message""#), "{text}");
        assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame);

        let mut value = serde_json::to_value(&message).unwrap();
        value["action"] = json!({"body": "fixed", "target": 1, "type": "edit"});
        value["event"]["kind"] = json!({"type": "left"});
        let reordered = format!(r#"{{"message":{value},"type":"message"}}"#);
        assert_eq!(
            serde_json::from_str::<ServerFrame>(&reordered).unwrap(),
            frame
        );
    }

    #[test]
    fn unit_variants_ignore_other_members() {
        let frame: ServerFrame = serde_json::from_str(r#"{"type":"synced","later":[1]}"#).unwrap();
        assert_eq!(frame, ServerFrame::Synced);
        let kind: GroupEventKind = serde_json::from_str(r#"{"x":{"y":2},"type":"left"}"#).unwrap();
        assert_eq!(kind, GroupEventKind::Left);
    }

    #[test]
    fn refusals_say_what_is_wrong() {
        let error = |text: &str| {
            serde_json::from_str::<ClientFrame>(text)
                .unwrap_err()
                .to_string()
        };
        assert!(error(r#"{"conversation":7}"#).contains("missing field `type`"));
        assert!(error("{}").contains("missing field `type`"));
        assert!(error(r#"{"type":"shout"}"#).contains("unknown variant `shout`"));
        assert!(error(r#"{"seq":1,"type":"shout"}"#).contains("unknown variant `shout`"));
        assert!(error(r#"{"type":"typing"}"#).contains("missing field `conversation`"));
        assert!(error(r#"{"type":7}"#).contains("invalid type"));
        assert!(error(r#"["send"]"#).contains("invalid type"));
        assert!(error(r#"{"type":"ping","nonce":1"#).contains("EOF"));
    }

    #[test]
    fn a_second_tag_is_refused_wherever_the_first_is() {
        for text in [
            r#"{"type":"ping","nonce":1,"type":"typing"}"#,
            r#"{"nonce":1,"type":"ping","type":"typing"}"#,
        ] {
            let error = serde_json::from_str::<ClientFrame>(text).unwrap_err();
            assert!(
                error.to_string().contains("duplicate field `type`"),
                "{text}: {error}"
            );
        }
    }

    #[test]
    fn defaults_hold_with_the_tag_anywhere() {
        for text in [
            r#"{"type":"hello","version":5}"#,
            r#"{"version":5,"type":"hello"}"#,
        ] {
            assert_eq!(
                serde_json::from_str::<ClientFrame>(text).unwrap(),
                ClientFrame::Hello {
                    version: 5,
                    cursors: vec![]
                },
                "{text}"
            );
        }
        let group = serde_json::json!({"name": "Hikers"});
        let text = format!(r#"{{"conversation":3,"group":{group},"type":"group"}}"#);
        let ServerFrame::Group {
            members, removed, ..
        } = serde_json::from_str(&text).unwrap()
        else {
            panic!("{text}");
        };
        assert!(members.is_empty() && removed.is_empty());
    }

    #[test]
    fn every_client_frame_reads_back_as_written() {
        let frames = [
            ClientFrame::Hello {
                version: 5,
                cursors: vec![crate::Cursor {
                    conversation: 1,
                    seq: 2,
                }],
            },
            ClientFrame::Send {
                conversation: 1,
                client_id: Uuid::nil(),
                body: String::new(),
                attachment: None,
                reply_to: Some(3),
                action: Some(Action::Delete { target: 3 }),
                link_preview: None,
            },
            ClientFrame::Receipt {
                conversation: 1,
                kind: crate::ReceiptKind::Delivered,
                seq: 4,
            },
            ClientFrame::Typing { conversation: 1 },
            ClientFrame::Ping { nonce: 5 },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), frame);
        }
    }

    #[test]
    fn every_frame_reads_back_as_written() {
        let frames = [
            ServerFrame::Welcome {
                version: 4,
                user: user(),
            },
            ServerFrame::Ack {
                client_id: Uuid::nil(),
                conversation: 1,
                seq: 2,
                sent_at: 3,
            },
            ServerFrame::Typing {
                conversation: 1,
                user: 3,
            },
            ServerFrame::error(crate::ErrorCode::NotAMember, "no"),
            ServerFrame::Pong { nonce: 9 },
            ServerFrame::Synced,
            ServerFrame::Receipt {
                conversation: 1,
                user: 3,
                kind: crate::ReceiptKind::Read,
                seq: 2,
            },
            ServerFrame::Profile { user: user() },
            ServerFrame::Gone { conversation: 1 },
            ServerFrame::Blocked {
                users: vec![user()],
            },
            ServerFrame::Mutes {
                mutes: vec![crate::Mute {
                    conversation: 1,
                    until: None,
                }],
            },
        ];
        for frame in frames {
            let text = serde_json::to_string(&frame).unwrap();
            assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame);
        }
    }
}
